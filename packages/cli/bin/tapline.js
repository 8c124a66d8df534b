#!/usr/bin/env node
// V8's compiled code of this bin's modules is kept between runs (Node >= 22.1; NODE_DISABLE_COMPILE_CACHE=1
// turns it off): loading modules is most of a short run's CPU (packages/bench README, "Start-up").
import module from 'node:module';

module.enableCompileCache?.();
await import('../dist/cli.js');
