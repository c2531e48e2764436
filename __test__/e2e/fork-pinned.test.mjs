// Regular-mode scenarios on the pinned n8n via the fork entry point, real n8n + real Kafka.
import { PINNED } from '../../scripts/n8n/n8n-instance.mjs';
import { regularScenarios } from './scenarios.mjs';

regularScenarios({ version: PINNED(), mode: 'fork', label: 'fork-pinned' });
