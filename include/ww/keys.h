/* keys.h - the Redis layout (SPEC §4, §6). Every key starts with the
 * configured prefix; per-event keys carry the event id in a hash tag
 * ({...}) so Redis Cluster keeps an event's keys together.
 *
 *   <p>dedup:{<event id>}        string  ingest token; TTL = dedup window
 *   <p>alerts                    stream  every published alert: channel, alert
 *   <p>alert:{<alert id>}        string  the alert's stream entry id; TTL = alert.dedup_ttl
 *   <p>thr:{<rule>}:<key>        zset    event ids scored by event time (threshold windows)
 *   <p>fire:{<rule>}:<key>       string  event time of the last alert (cooldowns)
 *   <p>rules                     string  the rules file loaded by `wirewatch rules load`
 *   <p>rules:version             string  its version (16 hex digits)
 *   <p>stats:<stage>             hash    counters: received, accepted, duplicate, bad:<kind>, events, alerts
 *   <p>workers:<stage>:<pid@host> hash   heartbeat of a running worker (expires after 15 s)
 */
#ifndef WW_KEYS_H
#define WW_KEYS_H
#endif
