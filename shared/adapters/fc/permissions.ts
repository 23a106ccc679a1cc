import type { RamGrant } from '../ram-grant';

/**
 * What the FC adapters send with the role, as FC 3.0's RAM actions on acs:fc:<region>:<account>:functions/<name> (FC
 * API 2023-03-30, each operation's "RAM authorization" table; docs/platform-facts.md, "RAM and ROS"). The operator's
 * own calls (yike-backfill, yike-doctor from outside) are not the role's and are not listed.
 */
export const FC_GRANTS: readonly RamGrant[] = [
  { action: 'fc:InvokeFunction', on: { function: 'next' }, by: 'invoke.ts invokeAsync: the watcher hands each finished job to JOB_NEXT_FUNCTION' },
  { action: 'fc:GetFunction', on: { function: 'next' }, by: "control.ts getFunction: the watcher's doctor checks that the next function exists" },
  {
    action: 'fc:InvokeFunction',
    on: { function: 'job-watcher' },
    by: "invoke.ts invokeAsync with a delay: the watcher schedules its next round (and the doctor's delay probe) by invoking itself",
  },
];
