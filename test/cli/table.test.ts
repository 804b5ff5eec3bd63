import { formatTable, RESULT_COLUMNS, resultRow } from '../../src/cli/table.js';
import { errorResult, okResult } from '../helpers/result-fixtures.js';

describe('resultRow', () => {
  it("prints the scores of an analysis, '+' above the threshold", () => {
    expect(resultRow(okResult('a.jpg'), 'out/a.jpg/mask.png')).toEqual([
      'a.jpg',
      'ok',
      '0.735 +',
      '0.041',
      '18.4%',
      '-',
      'out/a.jpg/mask.png',
    ]);
  });

  it('prints a withheld classification as withheld with its reasons, never as a score or a finding', () => {
    const r = okResult('black.jpg', { withheldReasons: ['NOT_DERMOSCOPIC', 'UNDER_EXPOSED'] });
    const row = resultRow(r, 'out/black.jpg/mask.png');
    expect(row).toEqual([
      'black.jpg',
      'ok (withheld)',
      'withheld (NOT_DERMOSCOPIC,UNDER_EXPOSED)',
      'withheld (NOT_DERMOSCOPIC,UNDER_EXPOSED)',
      '18.4%',
      'NOT_DERMOSCOPIC,UNDER_EXPOSED',
      'out/black.jpg/mask.png',
    ]);
    expect(row.join(' ')).not.toMatch(/0\.735|\+/);
  });

  it('prints an error as its code', () => {
    expect(resultRow(errorResult('x.jpg'), 'out/x.jpg/error.json')).toEqual([
      'x.jpg',
      'error',
      '-',
      '-',
      '-',
      errorResult('x.jpg').error.code,
      'out/x.jpg/error.json',
    ]);
  });
});

describe('formatTable', () => {
  it('pads columns and rules the header', () => {
    expect(formatTable([RESULT_COLUMNS.slice(0, 2), ['a.jpg', 'ok']])).toBe(
      'image  status\n-----  ------\na.jpg  ok',
    );
  });
});
