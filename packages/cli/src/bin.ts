#!/usr/bin/env node
import { loadWithSmallYoungGeneration } from './internal/startup-heap.js';

// main.js and everything it imports load with V8's young generation kept small.
const { main } = await loadWithSmallYoungGeneration(() => import('./main.js'));
const code = await main(process.argv.slice(2));
// serve keeps the process alive through its server; other commands end here.
if (code !== 0) process.exit(code);
