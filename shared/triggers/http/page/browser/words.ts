import { LANGUAGES, type Language, STRINGS, type StringKey } from '../strings';

const LANGUAGE_KEY = 'yike-language';
let language: Language = 'en';

/** The language the customer chose on this page before, else the browser's first one the page speaks, else English. */
export function startingLanguage(): Language {
  const chosen = localStorage.getItem(LANGUAGE_KEY);
  if (chosen && (LANGUAGES as readonly string[]).includes(chosen)) return chosen as Language;
  for (const wanted of navigator.languages || [navigator.language]) {
    if (/^zh\b/i.test(wanted)) return 'zh-CN';
    if (/^en\b/i.test(wanted)) return 'en';
  }
  return 'en';
}

/** A string of the table in the page's language, with its `{name}`s filled. */
export function say(key: StringKey, values: Record<string, string | number> = {}): string {
  return STRINGS[language][key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

/** Puts every `data-t` text of the page in this language (remembered when the customer chose it). */
export function useLanguage(next: Language, chosen = false): void {
  language = next;
  if (chosen) localStorage.setItem(LANGUAGE_KEY, next);
  document.documentElement.lang = next;
  document.title = say('pageTitle');
  for (const element of document.querySelectorAll<HTMLElement>('[data-t]')) element.textContent = say(element.dataset.t as StringKey);
}

export function otherLanguage(): Language {
  return LANGUAGES.find((candidate) => candidate !== language) || 'en';
}
