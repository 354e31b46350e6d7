/** How long a record has been in a state, as the workflow bar and the history say it. */
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../runtime-ui/src/format.js';

const DAY = 86_400;

describe('formatDuration', () => {
  it('says the two largest units of a stay shorter than a week', () => {
    expect(formatDuration('zh-CN', 3 * DAY + 5 * 3600 + 20 * 60)).toBe('3 天 5 小时');
    expect(formatDuration('en', 2 * 3600 + 7 * 60)).toBe('2 h 7 min');
    expect(formatDuration('zh-CN', 40)).toBe('0 分钟');
  });

  it('says a week or more in days only, so that it fits under a stage', () => {
    expect(formatDuration('zh-CN', 213 * DAY + 20 * 3600)).toBe('213 天');
    expect(formatDuration('en', 7 * DAY)).toBe('7 d');
    expect(formatDuration('zh-CN', 7 * DAY - 60)).toBe('6 天 23 小时');
  });
});
