// Queue mode on the pinned n8n (2.8.4, Node 20): main + worker + real Redis + real Kafka.
import { PINNED } from '../../scripts/n8n/n8n-instance.mjs';
import { queueScenarios } from './queue-scenarios.mjs';

queueScenarios({ version: PINNED(), label: 'queue-pinned' });
