/**
 * What can go wrong with the user's Python, each with a message that says what to do. `exitCode` 2 means the
 * user's set-up (interpreter, westpa, an import); a failure inside their code is theirs too, with their traceback.
 */
import type { InterpreterChoice } from './interpreter.js';

export type BridgeErrorKind = 'no-python' | 'no-westpa' | 'import' | 'user' | 'protocol' | 'died' | 'internal';

export class BridgeError extends Error {
  readonly code = 'PYTHON_ERR_BRIDGE';
  readonly exitCode = 2;
  constructor(
    readonly kind: BridgeErrorKind,
    message: string,
    /** The user's Python traceback, when their code raised. */
    readonly traceback: string = '',
  ) {
    super(message);
    this.name = 'BridgeError';
  }
}

/** Why the interpreter could not be started, naming how it was chosen and what to set. */
export function noPython(py: InterpreterChoice, why: string, needFor: string): BridgeError {
  return new BridgeError(
    'no-python',
    `${needFor} needs Python with westpa, but the interpreter '${py.command}' (from ${py.from === 'PATH' ? 'python3 on PATH, the default' : py.from}) ${why}; ` +
      `set west.westream.python in the config or WESTREAM_PYTHON to the Python you run WESTPA with (e.g. the one 'which w_run' uses)`,
  );
}

export function noWestpa(py: InterpreterChoice, detail: string, needFor: string): BridgeError {
  return new BridgeError(
    'no-westpa',
    `${needFor} needs westpa, but '${py.command}' (from ${py.from === 'PATH' ? 'python3 on PATH' : py.from}) cannot import it (${detail}); ` +
      `install it there ('${py.command} -m pip install westpa numpy') or point west.westream.python / WESTREAM_PYTHON at the Python that has it`,
  );
}

export interface WireError {
  readonly kind?: string;
  readonly key?: string;
  readonly name?: string;
  readonly where?: string;
  readonly message?: string;
  readonly traceback?: string;
}

/** An error reply of the helper as a BridgeError. */
export function fromWire(e: WireError, py: InterpreterChoice): BridgeError {
  const tb = e.traceback ?? '';
  if (e.kind === 'import') {
    return new BridgeError(
      'import',
      `${e.key ?? 'config'}: cannot load '${e.name ?? '?'}' in ${py.command}: ${e.message ?? ''}; ` +
        `check the module name, that it imports in that Python, and that its directory is the sim root or in west.drivers.module_path\n${indent(tb)}`,
      tb,
    );
  }
  if (e.kind === 'user') return new BridgeError('user', `${e.where ?? 'your Python code'}: ${e.message ?? ''}\n${indent(tb)}`, tb);
  return new BridgeError('internal', `westream's Python helper failed (a bug: please report it): ${e.message ?? ''}\n${indent(tb)}`, tb);
}

function indent(tb: string): string {
  return tb
    .trimEnd()
    .split('\n')
    .map((l) => `    | ${l}`)
    .join('\n');
}
