/**
 * A corpus of broken configs. Each names the problem the user must see: file:line:col, the key path,
 * what was expected and what was found. Every case is a small edit of a valid config.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, loadConfigText } from '@westream/config';
import { cases, minimal } from './fixtures/malformed-cases.js';

describe('malformed configs: one located message per problem', () => {
  it('has a corpus of at least 25 cases', () => expect(cases.length).toBeGreaterThanOrEqual(25));

  it.each(cases)('$name', ({ edit, errors }) => {
    let thrown: unknown;
    try {
      loadConfigText(edit(minimal), 'west.yaml');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const lines = (thrown as ConfigError).issues.filter((i) => i.severity === 'error').map(formatIssue);
    expect(lines, lines.join('\n')).toHaveLength(errors.length);
    errors.forEach((re, i) => expect(lines[i]).toMatch(re));
  });
});
