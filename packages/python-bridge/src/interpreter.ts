/** Which Python the bridge runs: west.westream.python, else $WESTREAM_PYTHON, else python3 on PATH. */
export interface InterpreterChoice {
  readonly command: string;
  /** What chose it, for messages: the config key, the variable, or the default. */
  readonly from: 'west.westream.python' | 'WESTREAM_PYTHON' | 'PATH';
}

export function chooseInterpreter(configured: string | null | undefined, env: Readonly<Record<string, string | undefined>> = process.env): InterpreterChoice {
  if (configured) return { command: configured, from: 'west.westream.python' };
  const fromEnv = env.WESTREAM_PYTHON;
  if (fromEnv) return { command: fromEnv, from: 'WESTREAM_PYTHON' };
  return { command: 'python3', from: 'PATH' };
}

/** The helper module shipped with this package (python/westream_bridge.py beside src/ and dist/). */
export const HELPER_MODULE = new URL('../python/westream_bridge.py', import.meta.url).pathname;
