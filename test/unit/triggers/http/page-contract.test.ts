import { parseConfig } from '../../../../shared/runtime/config';
import { pageResponse } from '../../../../shared/triggers/http/page/page';
import { PAGE_ELEMENTS, TIMELINE_STEPS } from '../../../../shared/triggers/http/page/page-contract';

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
});
