// Queue mode on the newest n8n 2.x on Node 24: main + worker + real Redis + real Kafka.
import { LATEST } from '../../scripts/n8n/n8n-instance.mjs';
import { queueScenarios } from './queue-scenarios.mjs';

queueScenarios({ version: `${LATEST()}@24`, label: 'queue-latest-node24' });
