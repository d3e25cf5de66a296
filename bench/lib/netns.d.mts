/** Types of netns.mjs (several "nodes" on one machine through network namespaces). */
export interface Nodes {
  readonly names: readonly string[];
  /** The bridge's address: where Redis listens for the nodes. */
  readonly hostAddress: string;
  teardown(): void;
}

/** Undefined when namespaces can be made here; else why not (not root, no iproute2). */
export function netnsMissing(): string | undefined;

/** `count` namespaces joined by veth pairs to a bridge in the root namespace. */
export function makeNodes(count: number): Nodes;
