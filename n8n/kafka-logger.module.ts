// The fork's backend module `kafka-logger` (@BackendModule, in main, worker and webhook processes): its init starts the logger.
import { BackendModule } from '@n8n/decorators';
import { Container } from '@n8n/di';
import { KafkaExecutionLoggerService } from './kafka-logger.service';

export const MODULE_NAME = 'kafka-logger';

@BackendModule({ name: MODULE_NAME, instanceTypes: ['main', 'worker', 'webhook'] })
export class KafkaLoggerModule {
  async init(): Promise<void> {
    Container.get(KafkaExecutionLoggerService).init();
  }
}
