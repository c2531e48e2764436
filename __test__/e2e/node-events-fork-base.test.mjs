// Node events on n8n 1.104.2 (the smartdataHQ fork's base, Node 20) via the stock hook file (node-events-scenarios.mjs).
import { FORK_BASE } from '../../scripts/n8n/n8n-instance.mjs';
import { nodeEventsScenarios } from './node-events-scenarios.mjs';

nodeEventsScenarios({ version: FORK_BASE(), label: 'node-events-1.104-node20' });
