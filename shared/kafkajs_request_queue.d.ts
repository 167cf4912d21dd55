/** The parts of kafkajs' internal request queue that shared/kafkajs_timer_fix.ts replaces. */
declare class RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  __stockletTimerFix?: boolean;
}
export default RequestQueue;
