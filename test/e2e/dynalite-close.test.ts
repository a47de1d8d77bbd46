// Closing the local DynamoDB while writes are still in flight (a completion that outlives the
// invocation it came from, at the end of a test file) must wait for them, not crash the file.
import { CreateTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { localDynamoClient, startDynalite } from '../support/dynalite';

test('close waits for the writes dynalite is doing and turns later ones away', async () => {
  const dynamo = await startDynalite();
  const client = localDynamoClient(dynamo.endpoint, { maxAttempts: 1 });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: 'close_test',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    const writes = Array.from({ length: 200 }, (_, n) =>
      client.send(new PutItemCommand({ TableName: 'close_test', Item: { pk: { S: `k${n}` }, body: { S: 'x'.repeat(2_000) } } })).then(
        () => 'written' as const,
        () => 'refused' as const,
      ),
    );
    // Close once the first write is done, while the others are still in dynalite or on their way.
    await Promise.race(writes);
    await dynamo.close();
    const outcomes = await Promise.all(writes);
    expect(outcomes).toContain('written');
    expect(outcomes.every((outcome) => outcome === 'written' || outcome === 'refused')).toBe(true);
  } finally {
    client.destroy();
    await dynamo.close();
  }
}, 30_000);
