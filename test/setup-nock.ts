import nock from 'nock';

// Every unit test file: no real network, and nock's patch of node's http module is undone at the end
// so the next file in the same worker (which loads its own nock) starts from a clean http module.
beforeAll(() => {
  if (!nock.isActive()) nock.activate();
  nock.disableNetConnect();
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});
