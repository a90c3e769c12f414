#!/usr/bin/env node
import { main } from './main.js';

const code = await main(process.argv.slice(2));
// serve keeps the process alive through its server; other commands end here.
if (code !== 0) process.exit(code);
