// Queue mode on the newest n8n 2.x on Node 26: main + worker + real Redis + real Kafka.
import { LATEST } from '../../scripts/n8n/n8n-instance.mjs';
import { queueScenarios } from './queue-scenarios.mjs';

queueScenarios({ version: `${LATEST()}@26`, label: 'queue-latest-node26' });
