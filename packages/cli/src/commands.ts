/**
 * Every `westream` command as a table (command-table.ts): its options with their defaults and help, and the
 * function that runs it. main.ts dispatches; parsing and help both come from here.
 */
import { existsSync } from 'node:fs';
import { WORK_MANAGER_DEFAULTS } from '@westream/work-manager/defaults';
import { ExitCode, UsageError } from './exit-codes.js';
import type { CommandSpec, OptionSpec } from './command-table.js';

const CONFIG: OptionSpec = { type: 'string', short: 'c', value: 'FILE', default: 'west.yaml, else west.cfg ($WESTREAM_CONFIG)', help: 'the config' };
const API_ADDRESS = "HOST:PORT, or 'off'";

export const commands: Readonly<Record<string, CommandSpec>> = {
  init: {
    summary: 'create west.h5 and iteration 1 from basis and target states (like w_init)',
    details: "States take WESTPA's formats: --bstate label,probability[,auxref]; --tstate label,pcoord...; the *-from files one per line.",
    options: {
      config: CONFIG,
      bstate: { type: 'string', multiple: true, value: 'L,P[,AUX]', help: 'a basis state: label, probability, optional auxref' },
      'bstates-from': { type: 'string', multiple: true, value: 'FILE', help: "basis states, one per line (WESTPA's bstates.txt)" },
      tstate: { type: 'string', multiple: true, value: 'L,X...', help: 'a target state: label and its pcoord' },
      'tstates-from': { type: 'string', multiple: true, value: 'FILE', help: "target states, one per line (WESTPA's tstates.txt)" },
      'segs-per-state': { type: 'string', value: 'N', default: '1', help: 'initial segments per basis state' },
      force: { type: 'boolean', help: 'replace an existing west.h5' },
    },
    run: async (v) =>
      (await import('./command-init.js')).commandInit(
        {
          config: configPath(v.config),
          bstate: list(v.bstate),
          bstatesFrom: list(v['bstates-from']),
          tstate: list(v.tstate),
          tstatesFrom: list(v['tstates-from']),
          segsPerState: str(v['segs-per-state']),
          force: v.force === true,
        },
        process.stdout,
        process.stderr,
      ),
  },
  run: {
    summary: 'run WE iterations (like w_run); Ctrl-C stops, run again resumes',
    options: {
      config: CONFIG,
      'work-manager': {
        type: 'string',
        value: 'local|bullmq',
        default: 'west.westream.work_manager, else local ($WM_WORK_MANAGER)',
        help: 'who runs the segments',
      },
      slots: { type: 'string', value: 'N', default: 'west.westream.slots, else the CPU cores', help: 'segments at once (local work manager)' },
      redis: { type: 'string', value: 'URL', default: 'west.westream.redis.url, else redis://127.0.0.1:6379', help: 'Redis of the bullmq work manager' },
      api: { type: 'string', value: API_ADDRESS, default: '127.0.0.1:8080 ($WESTREAM_API)', help: 'where the REST API and dashboard listen' },
      'api-token-file': {
        type: 'string',
        value: 'FILE',
        default: '$WESTREAM_API_TOKEN_FILE, else $WESTREAM_API_TOKEN, else a new one in .westream/api-token',
        help: 'a file holding the token that lets a client pause or stop the run (never the token itself on the command line: ps shows it)',
      },
      'log-format': {
        type: 'string',
        value: 'pretty|json',
        default: 'pretty on a terminal, else json',
        help: 'a live table, or one JSON line per event (pino)',
      },
      'log-file': { type: 'string', value: 'FILE', help: 'JSON lines to FILE as well (appended)' },
      // Parsed only to be refused with the reason (api-token-source.ts); a token in argv is visible to every user.
      'api-token': { type: 'string', value: 'T', help: 'refused: use WESTREAM_API_TOKEN or --api-token-file' },
    },
    run: async (v) => {
      if (v['api-token'] !== undefined) throw new UsageError(`westream run: ${(await import('./api-token-source.js')).TOKEN_ON_COMMAND_LINE}`);
      const s = await (
        await import('./command-run.js')
      ).commandRun({
        config: configPath(v.config),
        workManager: str(v['work-manager']),
        slots: str(v.slots),
        redis: str(v.redis),
        api: str(v.api),
        apiTokenFile: str(v['api-token-file']),
        logFormat: str(v['log-format']),
        logFile: str(v['log-file']),
      });
      return s.reason === 'stopped' ? ExitCode.STOPPED : ExitCode.OK;
    },
  },
  worker: {
    summary: "a cluster node's daemon for the bullmq work manager",
    details: 'First SIGTERM/SIGINT drains (running segments finish); a second kills them and hands their jobs to other nodes.',
    options: {
      redis: { type: 'string', value: 'URL', default: '$WESTREAM_REDIS, else redis://127.0.0.1:6379', help: 'the Redis the sim-manager uses' },
      'node-id': { type: 'string', value: 'ID', default: 'the host name', help: "this node's name (its queue is node:ID)" },
      slots: { type: 'string', value: 'N', default: 'one per --gpus device, else the CPU cores', help: 'segments at once' },
      gpus: { type: 'string', value: '0,1,...', help: 'one GPU per slot (CUDA_VISIBLE_DEVICES of each segment)' },
      'state-dir': { type: 'string', value: 'DIR', default: '~/.westream/worker-ID', help: "the daemon's process registry" },
      'lock-duration': {
        type: 'string',
        value: 'S',
        default: String(WORK_MANAGER_DEFAULTS.lockDurationMs / 1000),
        help: 'seconds a job stays locked without renewal before another node may take it',
      },
      heartbeat: { type: 'string', value: 'S', default: String(WORK_MANAGER_DEFAULTS.heartbeatMs / 1000), help: 'seconds between heartbeats' },
    },
    run: async (v) =>
      (await import('./command-worker.js')).commandWorker({
        redis: str(v.redis),
        nodeId: str(v['node-id']),
        slots: str(v.slots),
        gpus: str(v.gpus),
        stateDir: str(v['state-dir']),
        lockDuration: str(v['lock-duration']),
        heartbeat: str(v.heartbeat),
      }),
  },
  serve: {
    summary: "the REST API and dashboard on a run's record, with no run (a finished or halted one)",
    options: { config: CONFIG, api: { type: 'string', value: API_ADDRESS, default: '127.0.0.1:8080 ($WESTREAM_API)', help: 'where to listen' } },
    run: async (v) => (await import('./command-serve.js')).commandServe({ config: configPath(v.config), api: str(v.api) }, process.stdout),
  },
  status: {
    summary: 'the run as west.h5 records it, or a running sim-manager through its REST API (--url)',
    options: {
      config: CONFIG,
      json: { type: 'boolean', help: 'print JSON' },
      url: { type: 'string', value: 'URL', default: '$WESTREAM_URL', help: "a running sim-manager's API, e.g. http://127.0.0.1:8080" },
      watch: { type: 'boolean', help: 'follow the run live (needs --url)' },
    },
    run: async (v) => {
      const url = str(v.url) ?? process.env.WESTREAM_URL;
      if (url) return (await import('./command-status-live.js')).commandStatusLive({ url, json: v.json === true, watch: v.watch === true }, process.stdout);
      if (v.watch === true) throw new UsageError("status --watch needs --url (a running sim-manager's API, e.g. http://127.0.0.1:8080)");
      return (await import('./command-status.js')).commandStatus({ config: configPath(v.config), json: v.json === true }, process.stdout);
    },
  },
  truncate: {
    summary: 'delete iterations >= N (like w_truncate); the next run redoes WE of iteration N-1',
    options: { config: CONFIG, n: { type: 'string', short: 'n', value: 'N', help: 'the first iteration to delete (required)' } },
    run: async (v) => (await import('./command-truncate.js')).commandTruncate({ config: configPath(v.config), n: str(v.n) }, process.stdout),
  },
  check: {
    summary: 'validate the config and print it normalized (warnings name file:line:col)',
    options: { config: CONFIG, json: { type: 'boolean', help: 'print the normalized config as JSON' } },
    run: async (v) =>
      (await import('./command-check.js')).commandCheck({ config: configPath(v.config), json: v.json === true }, process.stdout, process.stderr),
  },
  schema: {
    summary: 'the JSON Schema of west.yaml (for editors), or its Markdown reference',
    options: {
      markdown: { type: 'boolean', help: 'the reference (config/REFERENCE.md) instead of the JSON Schema' },
      out: { type: 'string', value: 'FILE', default: 'standard output', help: 'write it here' },
      check: { type: 'string', value: 'FILE', help: 'exit 2 unless FILE holds exactly this output' },
    },
    run: async (v) =>
      (await import('./command-schema.js')).commandSchema({ out: str(v.out), check: str(v.check), markdown: v.markdown === true }, process.stdout),
  },
  example: {
    summary: 'list the worked examples, or make a sim root from one',
    options: {},
    positionals: [
      { name: 'NAME', help: 'the example (without it: the list)' },
      { name: 'DIR', help: 'the new sim root to create' },
    ],
    run: async (_v, [name, dir]) => (await import('./command-example.js')).commandExample({ name, dir }, process.stdout),
  },
};

function str(v: string | boolean | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function list(v: string | boolean | string[] | undefined): string[] {
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** WESTPA's default is west.cfg; westream's demo uses west.yaml. Take whichever exists. */
function configPath(flag: string | boolean | string[] | undefined): string {
  if (typeof flag === 'string') return flag;
  return process.env.WESTREAM_CONFIG ?? (existsSync('west.yaml') ? 'west.yaml' : existsSync('west.cfg') ? 'west.cfg' : 'west.yaml');
}
