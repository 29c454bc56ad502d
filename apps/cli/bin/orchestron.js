#!/usr/bin/env node
// The `orchestron` command. A committed file rather than dist/main.js itself, so that the
// install can link it before the first build (pnpm links bins whose file exists).
require('../dist/main.js');
