import { Injectable } from '@nestjs/common';

/** Readiness turns 503 while the process drains, so the load balancers stop sending before it closes. */
@Injectable()
export class LifecycleService {
  draining = false;
}
