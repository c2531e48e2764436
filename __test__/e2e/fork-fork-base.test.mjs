// Core scenarios on n8n 1.104.2 (the smartdataHQ fork's base) on Node 20 via the fork module (fork-swap.test.mjs runs the fork's own environment there), real n8n + real Kafka.
import { FORK_BASE } from '../../scripts/n8n/n8n-instance.mjs';
import { regularScenarios } from './scenarios.mjs';

regularScenarios({ version: FORK_BASE(), mode: 'fork', label: 'fork-1.104-node20', core: true });
