import { Command } from 'commander';
import { ApiError } from './client.js';
import { registerDataCommands } from './data-commands.js';

const program = new Command('tributary')
  .description('Tributary: stream mailbox events into your systems')
  .option('--json', 'machine-readable output for data commands')
  .showHelpAfterError();

// Data commands only call the REST API: for them the server (database drivers, HTTP framework,
// destinations) is not loaded at all, which keeps `tributary grants list` well under a second.
const DATA_COMMANDS = new Set(['integrations', 'grants', 'applications', 'redirect-uris', 'providers']);
const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'));

registerDataCommands(program);
if (command === undefined || !DATA_COMMANDS.has(command)) {
  const [{ registerServerCommands }, { registerDemoCommand }] = await Promise.all([import('./server-commands.js'), import('./demo.js')]);
  registerServerCommands(program);
  registerDemoCommand(program);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ApiError) console.error(`error: ${err.message}${err.status ? ` (HTTP ${err.status})` : ''}`);
  else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
