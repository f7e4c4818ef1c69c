#!/usr/bin/env node
import { runCli } from './cli/index.js';
import { hideBin } from 'yargs/helpers';

runCli(hideBin(process.argv)).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`herald: fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
