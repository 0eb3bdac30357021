import { Command } from 'commander';
import { ApiError } from './client.js';
import { registerDataCommands } from './data-commands.js';
import { registerDemoCommand } from './demo.js';
import { registerServerCommands } from './server-commands.js';

const program = new Command('tributary')
  .description('Tributary: stream mailbox events into your systems')
  .option('--json', 'machine-readable output for data commands')
  .showHelpAfterError();

registerServerCommands(program);
registerDataCommands(program);
registerDemoCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ApiError) console.error(`error: ${err.message}${err.status ? ` (HTTP ${err.status})` : ''}`);
  else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
