/**
 * Several "nodes" on one machine: network namespaces joined by veth pairs to a bridge in the root namespace,
 * each with its own loopback. A process started inside one (`ip netns exec`) sees only that node's 127.0.0.1,
 * just as on a cluster node. Names and the 10.231.<k>.0/24 subnet are this test run's own; everything is torn
 * down afterwards. Shared by the multi-node tests (test/bullmq-nodes.test.ts) and the scale bench; types in
 * netns.d.mts.
 */
import { spawnSync } from 'node:child_process';

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Undefined when namespaces can be made here; else why not (not root, no iproute2). */
export function netnsMissing() {
  const probe = `wsprobe${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot create network namespaces (${(r.stderr || r.error?.message || '').trim()}); the multi-node tests need root and iproute2`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

export function makeNodes(count) {
  const tag = (process.pid % 200) + 20; // one subnet and one set of names per test process
  const bridge = `wsbr${tag}`;
  const names = Array.from({ length: count }, (_, i) => `wsnode${tag}n${i}`);
  const hostAddress = `10.231.${tag}.1`;
  const teardown = () => {
    for (const n of names) spawnSync('ip', ['netns', 'del', n]);
    spawnSync('ip', ['link', 'del', bridge]);
  };
  teardown(); // leftovers of a killed earlier run with the same pid
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${hostAddress}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    names.forEach((n, i) => {
      ip('netns', 'add', n);
      ip('link', 'add', `wsv${tag}n${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n);
      ip('link', 'set', `wsv${tag}n${i}`, 'master', bridge, 'up');
      ip('netns', 'exec', n, 'ip', 'addr', 'add', `10.231.${tag}.${11 + i}/24`, 'dev', 'eth0');
      ip('netns', 'exec', n, 'ip', 'link', 'set', 'eth0', 'up');
      ip('netns', 'exec', n, 'ip', 'link', 'set', 'lo', 'up');
    });
  } catch (e) {
    teardown();
    throw e;
  }
  return { names, hostAddress, teardown };
}
