import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { registerEvents } from './events.js';
import { registerServe } from './serve.js';
import { registerDemo } from './demo.js';
import { registerReport } from './report.js';
import { registerAlerts } from './alerts.js';
import { registerVerify } from './verify.js';
import { registerEvidence } from './evidence.js';
import { registerPrices } from './prices.js';
import { registerKeys } from './keys.js';
import { registerDoctor } from './doctor.js';
import { registerErase } from './erase.js';
import { registerHold } from './hold.js';
import { registerPrune } from './prune.js';
import { registerExport } from './export.js';
import { registerRollups } from './rollups.js';
import { registerSigningKey } from './signing-key.js';

/** Every `tollgate` command, in the order `--help` lists them. */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerServe(program, ctx);
  registerDemo(program, ctx);
  registerEvents(program, ctx);
  registerReport(program, ctx);
  registerAlerts(program, ctx);
  registerVerify(program, ctx);
  registerEvidence(program, ctx);
  registerDoctor(program, ctx);
  registerSigningKey(program, ctx);
  registerKeys(program, ctx);
  registerErase(program, ctx);
  registerPrune(program, ctx);
  registerHold(program, ctx);
  registerExport(program, ctx);
  registerPrices(program, ctx);
  registerRollups(program, ctx);
}
