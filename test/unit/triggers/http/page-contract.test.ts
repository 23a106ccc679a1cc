import { parseConfig } from '../../../../shared/runtime/config';
import { pageResponse } from '../../../../shared/triggers/http/page/page';
import { PAGE_ELEMENTS, TIMELINE_STEPS } from '../../../../shared/triggers/http/page/page-contract';
import { LANGUAGES, STRINGS } from '../../../../shared/triggers/http/page/strings';

/** The page's HTML (page.ts) has what its script (browser/, typed by page-contract.ts) looks up. */
describe("the page's HTML and its script agree (page-contract.ts)", () => {
  const html = pageResponse(parseConfig({ ALLOWED_BUCKETS: 'yike-uploads' })).body;

  it('has every element the script looks up by id, once, with the tag the script expects', () => {
    // Act
    const tags = Object.keys(PAGE_ELEMENTS).map((id) => {
      const elements = [...html.matchAll(new RegExp(`<([a-z]+)[^>]*\\sid="${id}"`, 'g'))];
      return { id, tags: elements.map((element) => element[1]) };
    });

    // Assert
    expect(tags).toEqual(Object.entries(PAGE_ELEMENTS).map(([id, tag]) => ({ id, tags: [tag] })));
  });

  it("lists the timeline's steps in the script's order, each with a time", () => {
    // Act
    const timeline = /<ol id="timeline">(.*)<\/ol>/.exec(html)![1]!;

    // Assert
    expect([...timeline.matchAll(/<li data-step="([a-z]+)">[A-Z][a-z]+<time><\/time><\/li>/g)].map((item) => item[1])).toEqual([...TIMELINE_STEPS]);
    expect(timeline.match(/<li/g)).toHaveLength(TIMELINE_STEPS.length);
  });

  it("names each of the customer page's texts by a key that strings.ts has, in every language", () => {
    // Act
    const keys = [...html.matchAll(/ data-t="([A-Za-z]+)"/g)].map((match) => match[1]!);

    // Assert
    expect(keys.length).toBeGreaterThan(10);
    for (const language of LANGUAGES) {
      expect(keys.filter((key) => !(STRINGS[language] as Record<string, string | undefined>)[key])).toEqual([]);
    }
  });

  it('gives the customer page the photo limits it checks and the CONSENT_VERSION it sends, escaped', () => {
    // Arrange
    const config = parseConfig({ ALLOWED_BUCKETS: 'yike-uploads', IMAGE_SUFFIXES: '.jpg,.png', CONSENT_VERSION: '2026-12 "zh"' });

    // Act
    const customer = /<div id="customer" ([^>]*)>/.exec(pageResponse(config).body)![1];

    // Assert
    expect(customer).toBe('data-max-bytes="20971520" data-suffixes=".jpg,.png" data-consent-version="2026-12 &quot;zh&quot;" hidden');
  });
});
