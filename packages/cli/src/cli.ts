// The `tapline` executable (bin/tapline.js): runs `main` and exits with its documented code.
import { main } from './commands.js';

process.exitCode = await main(process.argv.slice(2));
