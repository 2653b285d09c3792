import type { Command } from 'commander';
import { globals, type CliContext } from '../cli-context.js';
import type { DemoOptions } from '../demo/run-demo.js';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      'offline showcase: a simulated provider, the gateway, realistic traffic with incidents, and the reports',
    )
    .option('--seconds <n>', 'how long to drive traffic (default 15)')
    .option('--serve', 'then keep the gateway and its dashboard running on the demo store (Ctrl-C stops)')
    .option('--port <port>', 'port with --serve (default 8787)')
    .action(async (opts: DemoOptions, cmd: Command) => {
      // The demo (gateway, mock provider, HTTP client) loads only when it runs.
      const { runDemo } = await import('../demo/run-demo.js');
      await runDemo(opts, globals(cmd), ctx);
    });
}
