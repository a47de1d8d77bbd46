import zapier, { defineApp, type Trigger } from 'zapier-platform-core';
import { EVENT_REGISTRY } from './src/core/event-registry';
import { addApiKey } from './src/zapier/api';
import { authentication } from './src/zapier/authentication';
import { dropdownTriggers } from './src/zapier/dropdowns';
import { eventTrigger } from './src/zapier/event-trigger';
import { version } from './package.json';

/** The Ecologic app: one instant trigger per platform event, plus the hidden dropdown feeds. */
const triggers: Record<string, Trigger> = {
  ...Object.fromEntries(EVENT_REGISTRY.map((definition) => [definition.triggerKey, eventTrigger(definition)])),
  ...dropdownTriggers,
};

const app = defineApp({
  version,
  platformVersion: zapier.version,
  authentication,
  beforeRequest: [addApiKey],
  triggers,
});

export default app;
