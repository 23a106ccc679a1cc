import type { PAGE_ELEMENTS } from '../page-contract';

type PageElementId = keyof typeof PAGE_ELEMENTS;
type PageElement<Id extends PageElementId> = HTMLElementTagNameMap[(typeof PAGE_ELEMENTS)[Id]];

/** The page's element with this id, typed by its tag in page-contract.ts (a test checks the HTML has each). */
export function $<Id extends PageElementId>(id: Id): PageElement<Id> {
  return document.getElementById(id) as PageElement<Id>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
}

/** The local time of day of an ISO time (now without one); empty for a time that does not parse. */
export function clock(iso?: string): string {
  const date = iso ? new Date(iso) : new Date();
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes < 1048576 ? 2 : 0)} MB`;
}
