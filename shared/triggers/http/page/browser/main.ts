/**
 * The page's script (GET /, page.ts), bundled for the browser by scripts/build.mjs (scripts/page-script.cjs) and
 * inlined into the page, whose CSP allows it by hash. No framework. The page has two modes: the customer's
 * (`/#ticket=…`, the default; customer.ts) and the operator's (`/#operator`, a bearer token and an app picker, for
 * developers; operator.ts). A change of mode in the address reloads the page, so one mode's state never meets the other.
 */
import { startCustomer } from './customer';
import { startOperator } from './operator';

const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.has('operator')) startOperator();
else startCustomer(fragment.get('ticket'));
addEventListener('hashchange', () => location.reload());
