/* log: one line per event, "LEVEL SUBSYSTEM EVENT key=value ...", to stderr
 * in the foreground, to syslog otherwise.  Never pass bodies or secrets. */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_LV_ERR, LOG_LV_WARN, LOG_LV_INFO, LOG_LV_DEBUG };

/* to_stderr: 1 = stderr, 0 = syslog.  Level from MENTORGATE_LOG (err|warn|info|debug). */
void log_init(const char *ident, int to_stderr);
void log_msg(enum log_level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hold back this thread's info and debug lines until log_release, which
 * prints them (what they tell of was committed) or drops them (it was
 * rolled back).  Warnings and errors are never held. */
void log_hold(void);
void log_release(int print);
/* While on, this thread's warnings and errors are logged as debug: an
 * outage already logged, met again while retrying. */
void log_demote(int on);

#define log_err(...) log_msg(LOG_LV_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LV_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LV_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LV_DEBUG, __VA_ARGS__)

#endif
