/* reply: find where the quoted history and the signature start.
 *
 * Each line is marked: blank, '>' quote, splitter (the first line of an
 * attribution such as "On ... wrote:", an Outlook From:/Sent: block, an
 * "Original Message" or forwarded-message marker) or text.  The reply is
 * what precedes the first splitter, plus any text written below the quote
 * that splitter introduces; a trailing '>' block is history too.  Then the
 * signature is cut: "-- ", device lines ("Sent from my ..."), and a closing
 * sign-off followed by a short name block. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mg.h"
#include "pattern.h"
#include "reply.h"

/* Verbs of attribution lines, in the languages clients write them. */
#define VERBS "wrote|writes|sent|schrieb|schreef|geschreven|escribió|escribio|" \
	"escreveu|écrit|ecrit|scritto|skrev|skriver|pisze|napisał|napisała|scris|" \
	"viết|napsal|napsala|kirjoitti|написал|написала|написав|писал|írta|yazdı|" \
	"kirjutas|rašė|rakstīja|写道|a écrit|ha escrito|escrit|пише|kirjoitti|" \
	"geschrieben|skrev følgende|het volgende geschreven|كتب|كتبت|כתב|έγραψε|" \
	"menulis|napisao|napisala|je napisal|rašo|kirjoitti|작성|yazmış"
#define INTRO "on|am|le|el|il|op|den|em|w dniu|dnia|în|in|vào|dne|dňa|pe|på|" \
	"op|kl\\.?|fecha|date|datum|le \\w+|pada|il giorno|în data de|στις|ב-"
#define HDR_FROM "from|von|de|van|fra|från|od|от|da|lähettäjä|feladó|kimden|" \
	"từ|mittente|remetente|expéditeur|afzender|absender|de la|dari|від|" \
	"差出人|发件人|發件人|寄件者|寄件人|보낸 사람|מאת|من|από|nga|frá"
#define HDR_OTHER "sent|date|to|subject|cc|bcc|reply-to|gesendet|datum|an|" \
	"betreff|kopie|envoyé|envoyé le|à|a|objet|enviado|enviada|fecha|para|" \
	"asunto|inviato|data|oggetto|verzonden|aan|onderwerp|sendt|til|emne|" \
	"dato|skickat|till|ämne|kopia|wysłano|wysłane|do|temat|отправлено|дата|" \
	"кому|тема|копия|lähetetty|päivämäärä|vastaanottaja|aihe|elküldve|" \
	"dátum|címzett|tárgy|gönderildi|tarih|kime|konu|đã gửi|ngày|đến|" \
	"chủ đề|assunto|destinatario|destinataire|empfänger|cc|kp|sujet|" \
	"copie à|message du|envoyé par|enviado el|fecha de envío|enviada em|" \
	"enviado em|data de envio|odesláno|komu|předmět|trimis|către|subiect|" \
	"dikirim|kepada|subjek|надіслано|enviat|per a|assumpte|送信日時|宛先|" \
	"件名|发送时间|發送時間|收件人|主题|主題|寄件日期|收件者|主旨|日期|" \
	"보낸 날짜|받는 사람|제목|נשלח|אל|נושא|تاريخ الإرسال|إلى|الموضوع|" \
	"στάλθηκε|προς|θέμα|skickades|lähetetty|poslano|datum odeslání"

enum pat {
	P_WROTE_INTRO,	/* "On <date>, <name> wrote:" and its translations */
	P_WROTE_END,	/* "<name> <addr> wrote:" */
	P_ORIGINAL,	/* "-----Original Message-----", forwarded markers */
	P_FORWARD,	/* "Begin forwarded message:" */
	P_HDR_FROM,
	P_HDR_ANY,
	P_SEPARATOR,	/* a rule of underscores, dashes or equals */
	P_DEVICE,	/* "Sent from my iPhone" and friends */
	P_SIGNOFF,	/* "Regards," alone on its line */
	P_DATE_ADDR,	/* "2013/11/13 John <john@example.com>" */
	P_DASH_WROTE,	/* "---- John Smith wrote ----" */
	P_VERB,		/* an attribution verb anywhere */
	P_DEVICE_NAME,	/* a phone or mail app named in a short line */
	P_SENT_WORD,	/* "sent", "küldve", "送信" ... */
	P_DASH_NAME,	/* "-Abhishek Kona" */
	P_NAME,		/* "Stavros Xxxxxx" */
	P_WROTE_MID,	/* "reply On ... wrote:" sharing the reply's line */
	P_DIGIT,
	P_TIME,		/* a time of day or a date, as clients write them */
	P_COUNT
};

static const char *const pat_src[P_COUNT] = {
	[P_WROTE_INTRO] = "^[\\s>*_-]*(?:" INTRO ")\\s.{0,300}?(?:" VERBS ")"
	    "(?:\\([a-zа-я]+\\))?(?:\\s.{0,120}?)?(?:\\s*:|\\s*-+|\\s*$)[-\\s]*$",
	[P_WROTE_END] = "^.{0,300}\\b(?:" VERBS ")(?:\\([a-zа-я]+\\))?\\s*:\\s*$",
	[P_ORIGINAL] = "^\\s*[-_=*]{2,}\\s*(?:original message|original|"
	    "ursprüngliche nachricht|originalnachricht|message d'origine|"
	    "message original|mensaje original|messaggio originale|"
	    "oorspronkelijk bericht|originalmeddelande|ursprungligt meddelande|"
	    "opprinnelig melding|oprindelig meddelelse|alkuperäinen viesti|"
	    "wiadomość oryginalna|oryginalna wiadomość|původní zpráva|"
	    "исходное сообщение|пересылаемое сообщение|mensagem original|"
	    "mesaj original|forwarded message|weitergeleitete nachricht|"
	    "message transféré|mensaje reenviado|messaggio inoltrato|"
	    "doorgestuurd bericht|vidarebefordrat meddelande|"
	    "videresendt melding|videresendt meddelelse|forwarded by .*|"
	    "reply above this line|svar over denne linje)\\s*[-_=*]*\\s*:?\\s*$",
	[P_FORWARD] = "^\\s*(?:begin forwarded message|forwarded message|"
	    "anfang der weitergeleiteten nachricht|début du message réexpédié|"
	    "inizio messaggio inoltrato|comienzo del mensaje reenviado)\\s*:",
	[P_HDR_FROM] = "^\\s*[*_]*(?:" HDR_FROM ")\\s*[*_]*\\s*[:：]",
	[P_HDR_ANY] = "^\\s*[*_]*(?:" HDR_FROM "|" HDR_OTHER ")\\s*[*_]*\\s*[:：]",
	[P_SEPARATOR] = "^\\s*(?:[_]{4,}|[-]{4,}|[=]{4,}|[*]{4,})\\s*$",
	[P_DEVICE] = "^\\s*[(<*_\\[]*\\s*(?:sent from|sent via|sent with|sent using|"
	    "sent on my|sent by|get outlook for|get \\[outlook|envoyé de|envoyé depuis|"
	    "envoyé à partir|von meinem|gesendet von|gesendet mit|enviado desde|"
	    "enviado do|enviado de meu|enviado de mi|inviato da|verzonden met|"
	    "verzonden vanaf|verstuurd vanaf|verstuurd met|skickat från|sendt fra|"
	    "wysłane z|отправлено с|diese nachricht wurde von|"
	    "this message was sent from|from my iphone|from my android|"
	    "from my ipad|from my mobile|from my samsung|"
	    "sent from mailbox|someone from mobile|verzonden vanuit|"
	    "verstuurd vanaf mijn|envoyé de mon|enviado desde mi|"
	    "inviato dal mio|enviado do meu|gesendet von meinem|"
	    "enviado desde outlook|skickat från min|sendt fra min|lähetetty|"
	    "odesláno z|poslano iz|trimis de pe|gönderildi)\\b.{0,120}$|"
	    "^\\s*(?:从我的|從我的|发自我的|發自我的).{0,60}$",	/* no \\b between CJK and Latin */
	[P_SIGNOFF] = "^\\s*(?:thanks|thank you|many thanks|thanks again|thanks so much|"
	    "thank you so much|thx|regards|best regards|kind regards|warm regards|"
	    "warmest regards|best wishes|all the best|best|cheers|sincerely|"
	    "yours|yours sincerely|yours truly|take care|talk soon|speak soon|"
	    "see you|love|cordialement|bien à vous|salutations|bien cordialement|"
	    "mit freundlichen grüßen|mit freundlichen grüssen|viele grüße|"
	    "viele grüsse|liebe grüße|liebe grüsse|beste grüße|beste grüsse|gruß|"
	    "grüße|grüsse|freundliche grüße|freundliche grüsse|lg|saludos|un saludo|atentamente|cordiali saluti|saluti|"
	    "met vriendelijke groet|vriendelijke groet|groeten|met groet|"
	    "med vänlig hälsning|vänliga hälsningar|hälsningar|mvh|"
	    "med venlig hilsen|venlig hilsen|med vennlig hilsen|hilsen|pozdrawiam|"
	    "z poważaniem|с уважением|atenciosamente|abraços|obrigado|obrigada|"
	    "gracias|danke|merci|grazie|tack|takk)[\\s,.!]*$",
	[P_DASH_WROTE] = "^\\s*-{2,}\\s*.{1,120}?\\s(?:" VERBS ")\\s*-{2,}\\s*$",
	[P_VERB] = "(?:^|\\s)(?:" VERBS ")(?:\\s|:|：|/|$)",
	[P_DEVICE_NAME] = "(?<![a-z])(?:iphone|ipad|android|blackberry|outlook for|outlook voor|"
	    "samsung|galaxy|huawei|xiaomi|windows phone|mobile device|mobilgerät|"
	    "k-9 mail|mail for windows)|^\\s*via (?:mobile|phone|iphone|android)\\b",
	[P_SENT_WORD] = "sent|send|via|küld|送信|发送|傳送|أرسل|أُرسلت|gesendet|envoy|enviad|"
	    "inviat|verzonden|verstuurd|skickat|sendt|wysłan|отправлен|надіслано|odeslán|"
	    "gönder|lähetet|trimis|poslano|보냄|전송",
	[P_DASH_NAME] = "^\\s*(?:-|~)\\p{Lu}\\p{Ll}+(?:\\s\\p{Lu}[\\p{L}.'’]*){0,2}\\s*$",
	[P_NAME] = "^\\s*\\p{Lu}[\\p{L}.'’-]*(?:\\s\\p{Lu}[\\p{L}.'’-]*){0,2}\\s*$",
	[P_WROTE_MID] = "\\s(?:on|am|le|el|il|op|den)\\s.{0,200}?\\s(?:" VERBS "):\\s*$",
	[P_DIGIT] = "\\p{Nd}",
	[P_TIME] = "\\p{Nd}{1,2}[:.h]\\p{Nd}{2}\\b|"			/* 10:02 */
	    "\\b\\d{1,4}[-/.]\\d{1,2}[-/.]\\d{1,4}\\b|"			/* 26/11/2013 */
	    "\\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\.?\\s+\\d{1,2}\\b|"
	    "\\b\\d{1,2}\\.?\\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
	[P_DATE_ADDR] = "^\\s*\\d{1,4}[-/.]\\d{1,2}[-/.]\\d{1,4}.{0,120}<[^<>\\s]+@[^<>\\s]+>\\s*:?\\s*$",
};

static struct pattern *pats[P_COUNT];
static pthread_once_t pats_once = PTHREAD_ONCE_INIT;
static _Thread_local size_t last_start;	/* of this thread's last match */

static void
pats_compile(void)
{
	pattern_compile(pats, pat_src, P_COUNT, 0);
}

static int
match(enum pat p, const char *s, size_t n)
{
	return pattern_find(pats[p], s, n, 0, &last_start, NULL, NULL) > 0;
}

/* Where the last match started. */
static size_t
match_start(void)
{
	return last_start;
}

struct line {
	const char *s;
	size_t n;
	char kind;	/* 'e' blank, 'q' quote, 'm' splitter, 't' text */
	int span;	/* lines a splitter covers */
	size_t keep;	/* bytes of reply before a splitter sharing the line */
};

/* Blank, counting the invisible characters some clients leave on a line
 * of its own (NBSP, zero-width and direction marks, Gmail's U+1427). */
static int
blank(const char *s, size_t n)
{
	static const char *const invisible[] = {
		"\xc2\xa0", "\xe2\x80\x8b", "\xe2\x80\x8c", "\xe2\x80\x8d",
		"\xe2\x80\x8e", "\xe2\x80\x8f", "\xef\xbb\xbf", "\xe1\x90\xa7",
		"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad",
		"\xe2\x80\xae",
	};
	size_t i = 0, k, w;

	while (i < n) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\f') {
			i++;
			continue;
		}
		if ((unsigned char)s[i] < 0x80)
			return 0;	/* visible ASCII: the common case */
		for (k = 0; k < sizeof invisible / sizeof *invisible; k++) {
			w = strlen(invisible[k]);
			if (i + w <= n && !memcmp(s + i, invisible[k], w))
				break;
		}
		if (k == sizeof invisible / sizeof *invisible)
			return 0;
		i += w;
	}
	return 1;
}

static int
quoted(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < n && s[i] == '>';
}

static int
has_digit_or_at(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '@' || (s[i] >= '0' && s[i] <= '9'))
			return 1;
	return 0;
}

/* Lines i..i+k-1 joined with single spaces into b. */
static void
join(struct buf *b, const struct line *l, size_t i, size_t k)
{
	b->len = 0;
	for (size_t j = i; j < i + k; j++) {
		if (j > i)
			buf_add(b, " ", 1);
		buf_add(b, l[j].s, l[j].n);
	}
}

/* Ends in ':' or a full-width colon, after any direction marks. */
/* An attribution that names an address, a time or a date is a client's;
 * "On Monday I wrote:" could be a person's sentence, and counts only when
 * a quote follows it. */
static int
solid(const struct buf *b)
{
	return memchr(b->s, '@', b->len) || match(P_TIME, b->s, b->len);
}

static int
quote_follows(const struct line *l, size_t i, size_t n)
{
	while (i < n && l[i].kind == 'e')
		i++;
	return i < n && l[i].kind == 'q';
}

static int
ends_colon(const struct buf *b)
{
	size_t n = b->len;

	while (n >= 3 && !memcmp(b->s + n - 3, "\xe2\x80", 2) &&
	    ((unsigned char)b->s[n - 1] == 0x8e || (unsigned char)b->s[n - 1] == 0x8f ||
	    ((unsigned char)b->s[n - 1] >= 0xaa && (unsigned char)b->s[n - 1] <= 0xae)))
		n -= 3;
	while (n > 0 && b->s[n - 1] == ' ')
		n--;
	return n && (b->s[n - 1] == ':' || (n >= 3 && !memcmp(b->s + n - 3, "\xef\xbc\x9a", 3)));
}

/* An attribution line ("On ... wrote:", "2016-10-24 15:36 GMT+02:00 Foo
 * <foo@bar>:"), possibly wrapped over three lines: how many lines it
 * covers, or 0.  *intro: it starts with "On" or a translation. */
static int
attribution(const struct line *l, size_t i, size_t n, struct buf *b, int *intro)
{
	int digit_at = has_digit_or_at(l[i].s, l[i].n), colon;

	if (l[i].n > 400)
		return 0;

	for (size_t k = 1; k <= 3 && i + k <= n; k++) {
		if (l[i + k - 1].kind != 't')
			break;
		join(b, l, i, k);
		if (b->len > 400)
			break;
		/* without a colon it needs a date or an address */
		colon = ends_colon(b);
		/* cheap tests first: most lines are prose */
		if (!colon && !has_digit_or_at(b->s, b->len))
			continue;
		*intro = 1;
		if (match(P_WROTE_INTRO, b->s, b->len) && (solid(b) || quote_follows(l, i + k, n)))
			return (int)k;
		*intro = 0;
		if (!digit_at)
			continue;
		if (colon && match(P_WROTE_END, b->s, b->len) && (solid(b) || quote_follows(l, i + k, n)))
			return (int)k;
		/* a date and an address, ending in a colon or naming the verb */
		if (memchr(b->s, '@', b->len) && match(P_DIGIT, b->s, b->len) &&
		    (colon || (k == 1 && match(P_VERB, b->s, b->len))))
			return (int)k;
	}
	return 0;
}

/* A colon early in the line, as "From:" or "Gesendet :" have. */
static int
hdr_like(const struct line *l)
{
	size_t n = l->n < 48 ? l->n : 48;

	return memchr(l->s, ':', n) || memmem(l->s, n, "\xef\xbc\x9a", 3);	/* or '：' */
}

/* The first byte that is not a space, or 0. */
static char
lead(const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->s[i] != ' ' && l->s[i] != '\t')
			return l->s[i];
	return 0;
}

/* An Outlook-style header block starting at line i: at least two header
 * lines, one of them From, within the next few non-blank lines. */
static int
header_block(const struct line *l, size_t i, size_t n)
{
	int hdrs = 0, from = 0, other = 0;
	size_t j;

	if (!hdr_like(&l[i]) || !match(P_HDR_ANY, l[i].s, l[i].n))
		return 0;
	for (j = i; j < n && j < i + 8; j++) {
		if (l[j].kind == 'e') {
			if (hdrs >= 2)
				break;
			continue;
		}
		if (!hdr_like(&l[j]))
			continue;
		if (match(P_HDR_FROM, l[j].s, l[j].n) && !from)
			from = 1, hdrs++;
		else if (match(P_HDR_ANY, l[j].s, l[j].n))
			other = 1, hdrs++;
	}
	return from && other && hdrs >= 2;
}

static size_t
skip(const struct line *l, size_t i, size_t n, const char *kinds)
{
	while (i < n && strchr(kinds, l[i].kind))
		i++;
	return i;
}

static void
mark(struct line *l, size_t n)
{
	struct buf b = {0};
	int k, intro;
	char c;

	for (size_t i = 0; i < n; i++) {
		l[i].span = 1;
		l[i].keep = 0;
		if (blank(l[i].s, l[i].n))
			l[i].kind = 'e';
		else if (quoted(l[i].s, l[i].n))
			l[i].kind = 'q';
		else
			l[i].kind = 't';
	}
	for (size_t i = 0; i < n; i++) {
		if (l[i].kind != 't')
			continue;
		if ((k = attribution(l, i, n, &b, &intro)) > 0) {
			/* a sentence ending just above a wrapped attribution
			 * is not part of it */
			while (!intro && k > 1 && l[i].n > 0 && strchr(".!?", l[i].s[l[i].n - 1]) &&
			    attribution(l, i + 1, i + (size_t)k, &b, &intro) > 0)
				i++, k--;
			l[i].kind = 'm';
			l[i].span = k;
			/* "reply On <date>, <addr> wrote:" */
			if (!intro && k == 1 && match(P_WROTE_MID, l[i].s, l[i].n))
				l[i].keep = match_start();
		} else if ((strchr("-_=*", c = lead(&l[i])) && c &&
		    (match(P_ORIGINAL, l[i].s, l[i].n) || match(P_DASH_WROTE, l[i].s, l[i].n))) ||
		    (hdr_like(&l[i]) && match(P_FORWARD, l[i].s, l[i].n)) || header_block(l, i, n) ||
		    (match(P_DATE_ADDR, l[i].s, l[i].n) &&
		    (k = (int)skip(l, i + 1, n, "e")) < (int)n && l[k].kind == 'q'))
			l[i].kind = 'm';
		else if ((k = (int)skip(l, i + 1, n, "e")) < (int)n && l[k].kind == 'q' &&
		    match(P_WROTE_MID, l[i].s, l[i].n) && match_start() > 0) {
			l[i].kind = 'm';
			l[i].keep = match_start();
		}
	}
	buf_free(&b);
}

static int
sig_delim(const struct line *l)
{
	return (l->n == 3 && !memcmp(l->s, "-- ", 3)) || (l->n == 2 && !memcmp(l->s, "--", 2)) ||
	    (l->n == 4 && !memcmp(l->s, "--\xc2\xa0", 4));
}

/* Does text other than a signature follow line k? */
static int
more_text(const struct line *l, size_t k, size_t n)
{
	for (; k < n; k++) {
		if (sig_delim(&l[k]) || match(P_SEPARATOR, l[k].s, l[k].n))
			return 0;
		if (l[k].kind == 't')
			return 1;
	}
	return 0;
}

/* The reply's lines: [0, *end) plus [*tail, *tail_end). */
static void
history(const struct line *l, size_t n, size_t *end, size_t *tail, size_t *tail_end)
{
	size_t h, j, k;

	*tail = *tail_end = n;
	for (h = 0; h < n && l[h].kind != 'm'; h++)
		;
	if (h < n) {
		/* a separator rule just above the splitter belongs to it */
		for (j = h; j > 0 && l[j - 1].kind == 'e'; j--)
			;
		if (j > 0 && match(P_SEPARATOR, l[j - 1].s, l[j - 1].n))
			h = j - 1;
		*end = l[h].keep ? h + 1 : h;
		/* text written below the quote the splitter introduces */
		j = skip(l, h + (size_t)l[h].span, n, "e");
		if (j < n && l[j].kind == 'q') {
			j = skip(l, j, n, "qe");
			for (k = j; k < n && (l[k].kind == 't' || l[k].kind == 'e'); k++)
				;
			/* text glued to a quote line is a broken quote, not a reply */
			if (j < k && (k == n || l[k - 1].kind == 'e') && !more_text(l, k, n)) {
				*tail = j;
				*tail_end = k;
			}
		}
		return;
	}
	/* a trailing '>' block, with the blank lines around it */
	for (h = n; h > 0 && l[h - 1].kind == 'e'; h--)
		;
	if (h > 0 && l[h - 1].kind == 'q') {
		while (h > 0 && (l[h - 1].kind == 'q' || l[h - 1].kind == 'e'))
			h--;
	} else
		h = n;
	*end = h;
}

static size_t
last_text(const struct line *l, size_t end)
{
	while (end > 0 && l[end - 1].kind == 'e')
		end--;
	return end;
}

static int
contact(const char *s, size_t n)
{
	size_t digits = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
	return digits >= 7 || memmem(s, n, "@", 1) || memmem(s, n, "http", 4) ||
	    memmem(s, n, "www.", 4) || memmem(s, n, "|", 1);
}

static int
block_contact(const struct line *l, size_t i, size_t end)
{
	for (; i < end; i++)
		if (contact(l[i].s, l[i].n))
			return 1;
	return 0;
}

/* Lines [i, end) are a signature block: few, short, and not prose. */
static int
sig_block(const struct line *l, size_t i, size_t end, size_t max)
{
	size_t rest = 0;

	for (; i < end; i++) {
		if (l[i].kind == 'e')
			continue;
		if (l[i].n > 80 || ++rest > max)
			return 0;
	}
	return 1;
}

/* Where the signature starts within lines [from, end), or end.  keep_one:
 * never cut the first line (a message that is only a signature stays). */
static size_t
signature(const struct line *l, size_t from, size_t end, int keep_one)
{
	size_t i, j, rest, last = last_text(l, end);
	char c;

	for (i = from; i < end; i++) {
		if (l[i].kind == 'e' || (keep_one && i == from))
			continue;
		if (sig_delim(&l[i]))
			return i;
		if (l[i].n <= 160 && match(P_DEVICE, l[i].s, l[i].n) && sig_block(l, i + 1, end, 40))
			return i;
		/* "-Name", or a rule above a short block of contact details
		 * (a business card, a mailing list footer) */
		c = lead(&l[i]);
		if ((c == '-' || c == '~') && match(P_DASH_NAME, l[i].s, l[i].n) &&
		    sig_block(l, i + 1, end, 12))
			return i;
		if (c && strchr("-_=*", c) && match(P_SEPARATOR, l[i].s, l[i].n) &&
		    sig_block(l, i + 1, end, 14) && block_contact(l, i + 1, end))
			return i;
	}
	/* a short device line at the very end ("Az iPhone-omról küldve"):
	 * a device and a word for sending,
	 * with the name written just above it */
	if (last > from + 1 && l[last - 1].n <= 80 &&
	    match(P_DEVICE_NAME, l[last - 1].s, l[last - 1].n) &&
	    match(P_SENT_WORD, l[last - 1].s, l[last - 1].n)) {
		i = last - 1;
		if (i > from + 2 && l[i - 1].kind == 't' && l[i - 2].kind == 'e' &&
		    l[i - 1].n <= 40 && match(P_NAME, l[i - 1].s, l[i - 1].n))
			i--;
		return i;
	}
	/* a sign-off followed by a name and contact details or a title */
	for (i = last; i > from + 1; i--) {
		if (l[i - 1].kind == 'e')
			continue;
		if (last - i > 8)
			break;
		if (!match(P_SIGNOFF, l[i - 1].s, l[i - 1].n))
			continue;
		rest = 0;
		int details = 0;
		for (j = i; j < last; j++) {
			if (l[j].kind == 'e')
				continue;
			if (l[j].n > 60)
				return end;
			rest++;
			details |= contact(l[j].s, l[j].n);
		}
		if (rest >= 2 && rest <= 6 && details)
			return i - 1;
		return end;
	}
	return end;
}

static void
emit(struct buf *b, const struct line *l, size_t from, size_t end)
{
	size_t n;

	while (from < end && l[from].kind == 'e')
		from++;
	end = last_text(l, end);
	for (size_t i = from; i < end; i++) {
		for (n = l[i].keep ? l[i].keep : l[i].n; n > 0 && (l[i].s[n - 1] == ' ' || l[i].s[n - 1] == '\t' ||
		    l[i].s[n - 1] == '\r'); n--)
			;
		buf_add(b, l[i].s, n);
		buf_add(b, "\n", 1);
	}
}

static char *extract(const char *text, size_t len, int signatures);

char *
reply_extract(const char *text, size_t len)
{
	return extract(text, len, 1);
}

char *
reply_screen_text(const char *text, size_t len)
{
	return extract(text, len, 0);
}

/* text's lines, marked, with where the reply ends (see history); *n lines */
static struct line *
lines(const char *text, size_t len, size_t *n, size_t *end, size_t *tail, size_t *tail_end)
{
	struct line *l = NULL;
	size_t cap = 0;
	const char *p = text, *e = text + len, *nl;

	pthread_once(&pats_once, pats_compile);
	*n = 0;
	while (p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (*n == cap)
			l = xrealloc(l, (cap = cap ? cap * 2 : 64) * sizeof *l);
		l[*n].s = p;
		l[*n].n = nl ? (size_t)(nl - p) : (size_t)(e - p);
		if (l[*n].n && p[l[*n].n - 1] == '\r')
			l[*n].n--;	/* CRLF text works too */
		(*n)++;
		p = nl ? nl + 1 : e;
	}
	mark(l, *n);
	history(l, *n, end, tail, tail_end);
	if (last_text(l, *end) == 0 && *tail == *tail_end) {
		/* nothing but history: a bare forward or quote keeps it all */
		*end = *n;
	}
	return l;
}

static void
add_part(struct reply_part **parts, size_t *np, int splitter, const char *s, size_t n)
{
	*parts = xrealloc(*parts, (*np + 1) * sizeof **parts);
	(*parts)[*np].splitter = splitter;
	(*parts)[(*np)++].text = xstrndup(s, n);
}

size_t
reply_history(const char *text, size_t len, struct reply_part **parts)
{
	size_t n, end, tail, tail_end, np = 0, i, from;
	struct line *l = lines(text, len, &n, &end, &tail, &tail_end);

	*parts = NULL;
	if (end > 0 && l[end - 1].kind == 'm' && l[end - 1].keep) {	/* "reply On ... wrote:" */
		size_t k = l[end - 1].keep;
		while (k < l[end - 1].n && (l[end - 1].s[k] == ' ' || l[end - 1].s[k] == '\t'))
			k++;
		add_part(parts, &np, 1, l[end - 1].s + k, l[end - 1].n - k);
	}
	for (i = end; i < n;) {
		if (i == tail) {
			i = tail_end;
			continue;
		}
		if (l[i].kind == 'm') {
			size_t k = i + (size_t)l[i].span;
			if (k > n)
				k = n;
			/* the rest of an Outlook header block (Sent:, To:, ...) */
			while (k < n && k != tail && l[k].kind == 't' && hdr_like(&l[k]) &&
			    match(P_HDR_ANY, l[k].s, l[k].n))
				k++;
			add_part(parts, &np, 1, l[i].s, (size_t)(l[k - 1].s + l[k - 1].n - l[i].s));
			i = k;
			continue;
		}
		int rule = 1;	/* only a separator rule ("_____"): a splitter's */
		for (from = i; i < n && i != tail && l[i].kind != 'm'; i++)
			rule &= l[i].kind == 'e' || match(P_SEPARATOR, l[i].s, l[i].n);
		if (last_text(l, i) > from)
			add_part(parts, &np, rule, l[from].s,
			    (size_t)(l[i - 1].s + l[i - 1].n - l[from].s));
	}
	free(l);
	return np;
}

static char *
extract(const char *text, size_t len, int signatures)
{
	size_t n, end, tail, tail_end;
	struct line *l = lines(text, len, &n, &end, &tail, &tail_end);
	struct buf out = {0};

	if (signatures)
		end = signature(l, 0, end, 1);
	emit(&out, l, 0, end);
	if (tail < tail_end) {
		/* the blank line the author left above the quote, if any */
		if (out.len && end > 0 && l[end - 1].kind == 'e')
			buf_add(&out, "\n", 1);
		if (signatures)
			tail_end = signature(l, tail, tail_end, 0);
		emit(&out, l, tail, tail_end);
	}
	free(l);
	return out.s ? out.s : xstrdup("");
}
