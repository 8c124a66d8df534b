// The `tapline` executable (bin/tapline.js): runs `main` and exits with its documented code.
// Signal handlers come first: loading the commands (DuckDB, pg) takes a moment, and a SIGTERM in
// that moment must still end tapline with 130, not by the signal.
import { Interrupts } from './interrupts.js';

const interrupts = new Interrupts().install();
const { main } = await import('./commands.js');
process.exitCode = await main(process.argv.slice(2), process.cwd(), interrupts);
