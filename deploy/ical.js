// ical.js - nginx (njs): the file a calendar subscription's URL names.
// /ical/<token>.ics is served from <ical dir>/t/<sha256 of the token>.ics,
// a link the calendar worker keeps to the feed; the token itself is
// stored nowhere (the database keeps the same hash).
function archivo(r) {
    var m = /^\/ical\/([A-Za-z0-9_-]{43})\.ics$/.exec(r.uri);

    if (!m)
        return 'ninguno';
    return require('crypto').createHash('sha256').update(m[1]).digest('hex');
}

export default { archivo };
