#!/usr/bin/env bash
# docs/walkthrough.sh - the POC flow of the README, run for real: sign in,
# register a pet with its owner, find a free slot of a vet on the vet's
# next working day, book it in a consulting room, read, move, confirm and
# cancel it, list the day's agenda and read the clinical history.
#
# Needs a running stack with the demo data (`make run`, or the test stack
# of `make test`, which runs this script and fails when a step answers
# another status than the one it expects).  Dates are computed from
# today in the site's time zone, ids are taken from the answers, so the
# script runs again and again on the same data.
#
# Usage: docs/walkthrough.sh [BASE_URL]
#   BASE_URL: default $VETRED_HTTP_URL, else http://127.0.0.1:18080
# Needs curl, jq and GNU date.  Prints one "ok N - step (status)" line per
# request; stops at the first step that gets another status (exit 1).
set -euo pipefail

BASE="${1:-${VETRED_HTTP_URL:-http://127.0.0.1:18080}}"
B="$BASE/api/v1"
JSON='Content-Type: application/json'
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
AUTH=()
n=0

# expect STATUS TITLE CURL-ARGS...: one request (with the token of the last
# `as`), its body in $W/body and headers in $W/head; stops unless it got
# STATUS.
expect() {
  local want="$1" title="$2" got
  shift 2
  n=$((n + 1))
  got="$(curl -sS -o "$W/body" -D "$W/head" -w '%{http_code}' "${AUTH[@]}" "$@")" || got=000
  if [ "$got" != "$want" ]; then
    printf 'not ok %d - %s: expected %s, got %s\n' "$n" "$title" "$want" "$got"
    head -c 2000 "$W/body" 2>/dev/null; echo
    exit 1
  fi
  printf 'ok %d - %s (%s)\n' "$n" "$title" "$got"
}
# body JQ-FILTER: a value of the last answer's JSON (fails when null).
body() { jq -er "$1" "$W/body"; }
# header NAME: a header of the last answer (empty when absent).
header() { tr -d '\r' <"$W/head" | sed -n "s/^$1: *//Ip" | tail -n1; }
# same WHAT A B: stop when two values that must be equal are not.
same() {
  [ "$2" = "$3" ] || { printf 'not ok %d - %s: "%s" is not "%s"\n' "$n" "$1" "$2" "$3"; exit 1; }
}
# as TOKEN: the following requests carry this access token.
as() { AUTH=(-H "Authorization: Bearer $1"); }
epoch() { date -d "$1" +%s; }

# >>> steps (the README shows this part as it is: keep both the same)
# 0. Errors are application/problem+json (RFC 9457): a stable "type", a
#    Spanish "title" and "detail"; a route other than sign-in wants a token.
expect 401 "POST /sedes without a token is refused" -X POST "$B/sedes" -H "$JSON" \
  -d '{"codigo":"TRU-01","nombre":"VetRed Trujillo","ciudad":"Trujillo","direccion":"Jr. Pizarro 512"}'
same "problem type" "$(body .type)" /problemas/no-autenticado

# 1. Sign in (every demo user's password is VetRed-Demo-2026): a 15-minute
#    access token and a 30-day refresh token.  POST $B/auth/refresh with
#    {"refresh_token": ...} rotates both; POST $B/auth/logout ends the session.
expect 200 "sign in as the receptionist of LIM-01" -X POST "$B/auth/login" -H "$JSON" \
  -d '{"email":"recepcion.lim@vetred.pe","password":"VetRed-Demo-2026"}'
as "$(body .access_token)"
SEDE="$(body '.usuario.roles[0].sede')"

# 2. Register a pet with its owner (an owner whose DNI exists is reused).
#    Field errors are named in "errors"; a retry with the same
#    Idempotency-Key answers the first answer again and registers nothing;
#    the same pet again without the key is a 409 naming the one registered.
DNI="$(printf '%08d' $(( (RANDOM * 32768 + RANDOM) % 100000000 )))"
PET='{"nombre": "Firulais", "especie": "canino", "sexo": "macho", "fecha_nacimiento": "2022-05-10",
  "peso_gramos": 12500, "sede_registro_id": '"$SEDE"',
  "propietario": {"nombres": "Ana", "apellidos": "Quispe Mamani", "documento": "'"$DNI"'",
                  "telefono": "+51987123456", "email": "ana.quispe@correo.pe"}}'
expect 422 "a phone that is not a Peruvian mobile is named" -X POST "$B/pacientes/registro" \
  -H "$JSON" -d "${PET/+51987123456/999}"
same "field in error" "$(body '.errors[0].campo')" propietario.telefono
expect 201 "register Firulais and its owner" -X POST "$B/pacientes/registro" -H "$JSON" \
  -H "Idempotency-Key: registro-$DNI" -d "$PET"
PACIENTE="$(body .id)"
expect 201 "the same request, same key: the first answer again" -X POST "$B/pacientes/registro" \
  -H "$JSON" -H "Idempotency-Key: registro-$DNI" -d "$PET"
same "replayed patient" "$(body .id)" "$PACIENTE"
same "Idempotent-Replayed" "$(header Idempotent-Replayed)" true
expect 409 "the same pet without a key: it exists already" -X POST "$B/pacientes/registro" \
  -H "$JSON" -d "$PET"
same "existing patient" "$(body .paciente_existente.id)" "$PACIENTE"

# 3. What the booking form needs: the site, its vets and rooms (room ids
#    are the consultorio_id of a booking; a site may have an operating
#    theatre too), and the free slots of the vet's next working day.
expect 200 "the site" "$B/sedes/$SEDE"
ZONA="$(body .zona_horaria)"
expect 200 "vets of the site" "$B/veterinarios?sede_id=$SEDE"
VET="$(body '[.elementos[] | select(.activo)][0].id')"
expect 200 "rooms of the site" "$B/sedes/$SEDE/consultorios"
SALA="$(body '[.elementos[] | select(.activo and .tipo == "consulta")][0].id')"
for i in $(seq 1 14); do
  DIA="$(TZ="$ZONA" date -d "+$i day" +%F)"
  curl -sS -o "$W/body" "${AUTH[@]}" \
    "$B/disponibilidad?veterinario_id=$VET&sede_id=$SEDE&fecha=$DIA&duracion_min=30"
  [ "$(jq '.huecos | length' "$W/body")" -ge 2 ] && break
done
expect 200 "free 30-minute slots of $DIA" \
  "$B/disponibilidad?veterinario_id=$VET&sede_id=$SEDE&fecha=$DIA&duracion_min=30"
INICIO="$(body '.huecos[0].inicio')"

# 4. Book the first free slot; the same slot for another patient is a 409
#    naming the appointment it collides with.
expect 201 "book $INICIO in room $SALA" -X POST "$B/citas/reservar" -H "$JSON" \
  -H "Idempotency-Key: cita-$DNI" -d '{
  "paciente_id": '"$PACIENTE"', "veterinario_id": '"$VET"', "sede_id": '"$SEDE"', "consultorio_id": '"$SALA"',
  "inicio": "'"$INICIO"'", "duracion_min": 30, "motivo": "Vacuna antirrábica", "tipo": "presencial"}'
CITA="$(body .id)"
FIN="$(body .fin)"
ETAG="$(header ETag)"
expect 201 "register a second pet of the owner" -X POST "$B/pacientes/registro" -H "$JSON" \
  -d "${PET/Firulais/Michi}"
OTRO="$(body .id)"
expect 409 "the same slot for the other pet: the vet is taken" -X POST "$B/citas/reservar" -H "$JSON" -d '{
  "paciente_id": '"$OTRO"', "veterinario_id": '"$VET"', "sede_id": '"$SEDE"',
  "inicio": "'"$INICIO"'", "duracion_min": 30, "motivo": "Control"}'

# 5. Read, move (If-Match: the version read; a stale one is a 412),
#    confirm, cancel (the slot is free again).
expect 200 "read the appointment" "$B/citas/$CITA"
expect 200 "45-minute slots of the day" \
  "$B/disponibilidad?veterinario_id=$VET&sede_id=$SEDE&fecha=$DIA&duracion_min=45"
for t in $(body '.huecos[].inicio'); do
  [ "$(epoch "$t")" -ge "$(epoch "$FIN")" ] && { NUEVO="$t"; break; }
done
expect 200 "move it to $NUEVO for 45 minutes" -X PUT "$B/citas/$CITA" -H "$JSON" -H "If-Match: $ETAG" \
  -d '{"inicio": "'"$NUEVO"'", "duracion_min": 45}'
expect 412 "a change with the version read before the move" -X PUT "$B/citas/$CITA" -H "$JSON" \
  -H "If-Match: $ETAG" -d '{"estado": "confirmada"}'
same "status line" "$(head -n1 "$W/head" | tr -d '\r')" "HTTP/1.1 412 Precondition Failed"
expect 200 "confirm it" -X PUT "$B/citas/$CITA" -H "$JSON" -d '{"estado": "confirmada"}'
same "state" "$(body .estado)" confirmada
expect 204 "cancel it" -X DELETE "$B/citas/$CITA?motivo=El%20propietario%20viaja"

# 6. The day's agenda of the site, and (as a vet: reception may not read
#    clinical records, 403) the patient's clinical history.
OFFSET="${INICIO:19}"
DESDE="${DIA}T00:00:00${OFFSET}"
HASTA="$(date -d "$DIA +1 day" +%F)T00:00:00${OFFSET}"
expect 200 "the agenda of $DIA" "$B/citas?sede_id=$SEDE&desde=${DESDE//+/%2B}&hasta=${HASTA//+/%2B}"
expect 403 "reception may not read the clinical history" "$B/pacientes/$PACIENTE/historial"
expect 200 "sign in as a vet of LIM-01" -X POST "$B/auth/login" -H "$JSON" \
  -d '{"email":"lucia.fernandez@vetred.pe","password":"VetRed-Demo-2026"}'
as "$(body .access_token)"
expect 200 "the clinical history" "$B/pacientes/$PACIENTE/historial?limite=20"
# <<< steps

echo "walkthrough: all $n steps answered as expected"
