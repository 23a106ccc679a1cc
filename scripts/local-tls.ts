import { localTls } from '../local/tls';

/**
 * Prints the local CA's path (making the CA and the stand-ins' certificate on first use, local/tls.ts): what
 * NODE_EXTRA_CA_CERTS must name for a process to trust the local cloud's HTTPS. Jest's global setup runs it.
 *   node dist/scripts/local-tls.js   →   /tmp/yike-fc-local-tls-v2/ca.pem
 */
void localTls().then(({ caPath }) => process.stdout.write(`${caPath}\n`));
