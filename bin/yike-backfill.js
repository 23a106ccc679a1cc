#!/usr/bin/env node
require('../dist/cli/yike-backfill.js');
