import { Command, Option } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { DEFAULT_LOOKBACK } from '../config/settings.js';
import { UsageError } from './options.js';
import { backfillCommand } from './commands/backfill.js';
import { DDL_DEFAULTS, ddlCommand } from './commands/ddl.js';
import { detectCommand } from './commands/detect.js';
import { sampleCommand } from './commands/sample.js';
import { serveCommand } from './commands/serve.js';
import { syncCommand } from './commands/sync.js';
import { verifyCommand } from './commands/verify.js';

export function buildProgram(): Command {
  const program = new Command('closer-audit')
    .description("Closer's Elasticsearch audit logs as Hive-partitioned Parquet in a local folder or S3")
    .version(pkg.version, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  const common = (cmd: Command) =>
    cmd
      .option(
        '--source <source>',
        'es | file:PATH | sample (default: es when CLOSER_ES_URL is set, else sample)',
      )
      .option('--out <dir>', 'target: a folder or s3://bucket/prefix (env CLOSER_OUT)')
      .addOption(
        new Option('--format <format>', 'parquet | ndjson (.ndjson.gz; alias json) | both').env(
          'CLOSER_FORMAT',
        ),
      )
      .addOption(
        new Option(
          '--lookback <duration>',
          `slots younger than this are re-read (default ${DEFAULT_LOOKBACK})`,
        ).env('CLOSER_LOOKBACK'),
      )
      .option('--redaction-rules <file>', 'JSON file of extra redaction rules (env CLOSER_REDACTION_RULES)');
  common(
    program.command('sync').description('pull new events, rewrite the lookback window, seal older hours'),
  )
    .option('--from <iso>', 'rewrite an explicit range from this instant')
    .option('--to <iso>', 'end of the explicit range (exclusive)')
    .addOption(
      new Option(
        '--first-window <duration>',
        'how far back a first run starts when nothing is stored yet (default 7d)',
      ).env('CLOSER_FIRST_WINDOW'),
    )
    .option('--no-detect', 'do not run the detection rules over the hours written')
    .option('--rules <dir>', 'a folder of your own detection rules (env CLOSER_DETECTION_RULES)')
    .action(syncCommand);
  common(program.command('backfill').description('ingest a past range, resumably, with a progress bar'))
    .requiredOption('--from <iso>', 'start of the range')
    .requiredOption('--to <iso>', 'end of the range (exclusive)')
    .option('--restart', 'ignore the checkpoint of an earlier, interrupted backfill of this range')
    .action(backfillCommand);
  program
    .command('verify')
    .description(
      'compare per-hour counts at the source with rows stored, or (--integrity) the stored objects with their manifests; exit 1 when they differ',
    )
    .option('--source <source>', 'es | file:PATH | sample')
    .option('--out <dir>', 'target folder or s3://bucket/prefix (env CLOSER_OUT)')
    .option('--integrity', 'check every stored object against the chained manifests (needs no source)')
    .option('--from <iso>', 'start of the range (needed without --integrity)')
    .option('--to <iso>', 'end of the range, exclusive (needed without --integrity)')
    .action(verifyCommand);
  program
    .command('detect')
    .description('run the detection rules over a synced folder; store, and print, the alerts')
    .option('--out <dir>', 'the synced folder (env CLOSER_OUT)')
    .option('--from <iso>', 'start of the range (default: 7 days before --to)')
    .option('--to <iso>', 'end of the range, exclusive (default: the end of the current hour)')
    .option(
      '--rules <dir>',
      'a folder of your own rules, added to the built-in ones (env CLOSER_DETECTION_RULES)',
    )
    .option('--json', 'one JSON object per alert and line')
    .action(detectCommand);
  program
    .command('sample')
    .description('write a realistic generated feed as Elasticsearch hits NDJSON')
    .option('--events <n>', 'number of events', '10000')
    .requiredOption('--out <file>', 'output file (.ndjson, or .ndjson.gz to compress)')
    .option('--from <iso>', 'start of the span (default: --days before the current hour)')
    .option('--to <iso>', 'end of the span (default: the current hour)')
    .option('--days <n>', 'length of the span in days', '30')
    .option('--seed <seed>', 'seed of the generator (same seed, same feed)')
    .option('--index <name>', 'the _index of the hits', 'closer')
    .option(
      '--attacks <list>',
      'plant labelled attack scenarios (all, or names of detection rules, comma-separated) into an otherwise benign feed',
    )
    .action(sampleCommand);
  program
    .command('serve')
    .description('serve the query API (for Grafana) over a local folder with DuckDB, or over Trino')
    .option('--data <dir>', 'the synced folder (env CLOSER_OUT; default ./closer-audit-data)')
    .option('--port <port>', 'port', '8787')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--engine <engine>', 'duckdb (the --data folder) | trino')
    .option('--trino-url <url>', 'Trino coordinator, http(s)://host:port (env CLOSER_TRINO_URL)')
    .option('--table <catalog.schema.table>', 'the events table in Trino (env CLOSER_TRINO_TABLE)')
    .action(serveCommand);
  program
    .command('ddl')
    .description(
      'print the CREATE TABLEs (events and detections; partition projection on dt) for Athena or a Trino Hive catalog',
    )
    .requiredOption('--location <url>', 'the sync target, s3://bucket/prefix')
    .option('--database <name>', 'Glue database (Trino: schema)', DDL_DEFAULTS.database)
    .option('--table <name>', 'table name', DDL_DEFAULTS.table)
    .option('--detections-table <name>', 'the alerts table name', DDL_DEFAULTS.detectionsTable)
    .option('--engine <engine>', 'athena | trino', 'athena')
    .option('--catalog <name>', 'Trino: the Hive catalog (default hive)')
    .option('--partitions <how>', 'Trino: projection (default) | registered')
    .action(ddlCommand);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return 0;
    if (code?.startsWith('commander.')) return 2;
    // Usage errors, and adapters' errors about a setting given wrong (exitCode 2): exit 2.
    if (err instanceof UsageError || (err as { exitCode?: number }).exitCode === 2) {
      process.stderr.write(`closer-audit: ${oneLine((err as Error).message)}\n`);
      return 2;
    }
    process.stderr.write(`closer-audit: ${oneLine((err as Error).message ?? String(err))}\n`);
    return 1;
  }
}

/** Errors print as one line: a library's multi-line message keeps its first line, capped. */
function oneLine(message: string): string {
  const first = message.split('\n').find((l) => l.trim() !== '') ?? message;
  return first.length > 400 ? `${first.slice(0, 400)}…` : first.trim();
}
