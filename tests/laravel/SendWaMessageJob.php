<?php

namespace App\Jobs;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Database\Capsule\Manager as DB;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Support\Carbon;
use RuntimeException;

/**
 * Stand-in for the application's job. The class shape (name, interface,
 * traits, constructor) is the contract: it decides the serialized payload.
 * Declares no $tries/$backoff/$timeout/$retryUntil/$maxExceptions, no
 * displayName()/backoff()/retryUntil()/middleware() methods.
 */
class SendWaMessageJob implements ShouldQueue
{
    use Dispatchable, InteractsWithQueue, Queueable;

    public function __construct(public int $waMessageId)
    {
    }

    public function handle(): void
    {
        $db = DB::connection();

        $db->transaction(function () use ($db) {
            $message = $db->table('wa_messages')->where('id', $this->waMessageId)->lockForUpdate()->first();

            if ($message === null) {
                throw new RuntimeException("wa_messages row {$this->waMessageId} not found");
            }

            // "Send" it.
            $now = Carbon::now();
            $db->table('wa_messages')->where('id', $this->waMessageId)->update([
                'status' => 'sent',
                'sent_at' => $now,
                'updated_at' => $now,
            ]);

            // Record the run so tests can assert which ids ran, and how often.
            $db->table('test_job_runs')->insert(['wa_message_id' => $this->waMessageId]);
        });
    }
}
