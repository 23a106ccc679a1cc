#!/usr/bin/env node
// Bundled by `npm run build` (run automatically by `npm install` through the prepare script).
require('../dist/cli/yike-doctor.js');
