// Queue mode on n8n 1.104.2 (the smartdataHQ fork's base, Node 20): main + worker + real Redis + real Kafka.
import { FORK_BASE } from '../../scripts/n8n/n8n-instance.mjs';
import { queueScenarios } from './queue-scenarios.mjs';

queueScenarios({ version: FORK_BASE(), label: 'queue-1.104-node20' });
