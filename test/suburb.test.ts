import { streetNamesSuburb, suburbFromStreet } from '../src/core/derive/suburb';

describe('the suburb read from a street line', () => {
  test.each([
    // After the last comma, once a closing state, postcode and country are taken off.
    ['27 Banksia Street, Brunswick', 'Brunswick'],
    ['  27 Banksia Street,   Brunswick  ', 'Brunswick'],
    ['27 Banksia Street, Brunswick VIC 3056', 'Brunswick'],
    ['27 Banksia Street, Brunswick, VIC 3056', 'Brunswick'],
    ['27 Banksia Street, Brunswick, Victoria 3056, Australia', 'Brunswick'],
    ['27 Banksia Street, Brunswick 3056 Vic.', 'Brunswick'],
    ['8/42 Bondi Road, Bondi', 'Bondi'],
    ['14 Wattle Grove, Parramatta NSW 2150', 'Parramatta'],
    ['1 Hay St, Perth WA 6000', 'Perth'],
    ['5 King William Street, Adelaide SA', 'Adelaide'],
    ['Unit 3, 7 Oak Ave, North Sydney', 'North Sydney'],
    ['PO Box 12, Wagga Wagga', 'Wagga Wagga'],
    ["3 Rose Lane, O'Connor ACT 2602", "O'Connor"],
    ['12 Fitzroy St, St. Kilda', 'St. Kilda'],
    ['12 Main Rd, Clermont', 'Clermont'],
    // A suburb whose name ends like a street, after a street line.
    ['12 Smith St, Wattle Grove', 'Wattle Grove'],
    ['40 Beach Rd, Golden Grove SA 5125', 'Golden Grove'],
    // No comma: the words after the street type.
    ['12 Smith St North Sydney', 'North Sydney'],
    ['12 Smith St. North Sydney NSW 2060', 'North Sydney'],
    ['27 Banksia Street Brunswick East', 'Brunswick East'],
    ['12 Lane Cove Road Ryde', 'Ryde'],
    ['12 Pacific Hwy St Leonards', 'St Leonards'],
    ['12 Smith St St Kilda', 'St Kilda'],
    ['12 Smith St Wattle Grove', 'Wattle Grove'],
    ['7 The Esplanade Sorrento', 'Sorrento'],
    // The last part is itself a street line: the words after its street type.
    ['Unit 4, 12 Smith St North Sydney', 'North Sydney'],
    // Never a guess.
    ['12 Smith Street', null],
    ['12 Smith Street NSW 2000', null],
    ['14 Wattle Grove', null],
    ['Brunswick', null],
    ['Victoria', null],
    ['Lot 5, Smith Road', null],
    ['Unit 4, 12 Smith Street', null],
    ['12 Smith Street, Level 2', null],
    ['12 Smith Street, 3056', null],
    ['Farm 12 Settlement', null],
    ['12 Smith St 2nd Floor', null],
    ['12 Smith St, Building C/3', null],
    ['12 Smith St, ', null],
    ['', null],
    ['   ', null],
    [null, null],
    [undefined, null],
    [3056, null],
    [{ street: '12 Smith St, Brunswick' }, null],
    [`12 Smith St, ${'Long '.repeat(50)}`, null],
  ])('%p -> %p', (street, suburb) => {
    expect(suburbFromStreet(street)).toBe(suburb);
  });

  test('a suburb of more than six words is not a suburb', () => {
    expect(suburbFromStreet('12 Smith St, One Two Three Four Five Six Seven')).toBeNull();
    expect(suburbFromStreet('12 Smith St, One Two Three Four Five Six')).toBe('One Two Three Four Five Six');
  });
});

describe('whether a street line already names a suburb', () => {
  test.each([
    ['27 Banksia Street, Brunswick', 'Brunswick', true],
    ['27 Banksia Street, Brunswick', ' brunswick ', true],
    ['12 Smith St North Sydney', 'North Sydney', true],
    ["3 Rose Lane, O'Connor", "O'Connor", true],
    ['27 Banksia Street', 'Brunswick', false],
    // Whole words only.
    ['27 Brunswickvale Street', 'Brunswick', false],
    ['27 Banksia Street, Brunswick', '', false],
    ['27 Banksia Street, Brunswick', '---', false],
    [null, 'Brunswick', false],
  ])('%p names %p: %p', (street, suburb, named) => {
    expect(streetNamesSuburb(street, suburb)).toBe(named);
  });
});
