// Package audit keeps the audit log: who did what to whom, when and from where —
// sign-ins (ok and failed), sign-outs, changes of users and their passwords, API
// tokens, replies sent past the contact guard, and deletions. Entries are kept in the
// storage engine (BoltStore, RedisStore), newest first in lists, apart from the
// conversations, so that the retention of conversations never removes them; the log
// keeps the newest MaxEntries (100 000 by default).
package audit
