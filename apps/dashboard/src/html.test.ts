import { describe, expect, it } from 'vitest';
import { formatDuration, html, raw } from './html.js';

describe('html templates', () => {
  it('escapes every interpolated value unless it is Html', () => {
    const name = '<script>alert("x")</script>';
    expect(html`<p title="${name}">${name}</p>`.value).toBe('<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>');
    expect(html`<div>${html`<b>${"a&b"}</b>`}${raw('<i>ok</i>')}${[1, '<', null, false]}</div>`.value).toBe('<div><b>a&amp;b</b><i>ok</i>1&lt;</div>');
  });

  it('formats durations', () => {
    expect(formatDuration(340)).toBe('340 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(null)).toBe('–');
  });
});
