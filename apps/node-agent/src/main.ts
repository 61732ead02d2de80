#!/usr/bin/env node
import { lookupGpu } from '@anneal/benchmarks';
import { processDeps, runCli } from './cli/cli.js';
import { execCommandRunner } from './gpu/command-runner.js';

const code = await runCli(process.argv.slice(2), processDeps(execCommandRunner, lookupGpu));
process.exitCode = code;
