/*
 * sql.h - every SQL statement of the API (sql.c), prepared on each
 * connection, and its parameters filled by name with typed values
 * (args.c).  Layer: base.
 */
#ifndef API_SQL_H
#define API_SQL_H

#include "vr.h"

enum api_stmt {
	STMT_PING,
	STMT_SEDES_LIST,
	STMT_SEDE_GET,
	STMT_SEDE_CREAR,
	STMT_CONSULTORIOS_LIST,
	STMT_TZ_VALID,
	STMT_RESERVAR,
	STMT_CITA_GET,
	STMT_CITA_UPDATE,
	STMT_CITA_CANCEL,
	STMT_CITAS_LIST,
	STMT_VETS_LIST,
	STMT_DISPONIBILIDAD,
	STMT_PACIENTE_REGISTRO,
	STMT_PACIENTE_GET,
	STMT_HISTORIAL,
	STMT_PACIENTE_PUT,
	STMT_PACIENTE_FALLECIMIENTO,
	STMT_PACIENTE_TRANSFERENCIA,
	STMT_PESO_REGISTRAR,
	STMT_PESOS_LIST,
	STMT_AUSENCIAS_LIST,
	STMT_AUSENCIA_REGISTRAR,
	STMT_AUSENCIA_ELIMINAR,
	STMT_AUSENCIAS_IMPORTAR,
	STMT_HORARIOS_LIST,
	STMT_HORARIOS_FIJAR,
	STMT_SEMANA_VETERINARIO,
	STMT_AGENDA_SEDE,
	STMT_FERIADOS_LIST,
	STMT_FERIADO_REGISTRAR,
	STMT_FERIADO_ELIMINAR,
	STMT_TIPOS_CITA_LIST,
	STMT_TIPO_CITA_FIJAR,
	STMT_TIPO_CITA_ELIMINAR,
	STMT_CALENDARIO_EMITIR,
	STMT_CALENDARIOS_LIST,
	STMT_CALENDARIO_REVOCAR,
	STMT_VACUNAS_LIST,
	STMT_VACUNACION_REGISTRAR,
	STMT_TRATAMIENTO_REGISTRAR,
	STMT_DIAGNOSTICOS_LIST,
	STMT_DIAGNOSTICO_CREAR,
	STMT_ENTRADA_REGISTRAR,
	STMT_ENTRADA_GET,
	STMT_ENTRADA_VERSIONAR,
	STMT_PROPIETARIO_GET,
	STMT_PROPIETARIO_PUT,
	STMT_PROPIETARIOS_BUSCAR,
	STMT_PROPIETARIO_FUSION,
	STMT_LOGIN_ESPERA,
	STMT_USUARIO_CLAVE,
	STMT_LOGIN_FALLIDO,
	STMT_SESION_INICIAR,
	STMT_SESION_REFRESCAR,
	STMT_SESION_CERRAR,
	STMT_REVOCADOS,
	STMT_SESIONES_REVOCADAS,
	STMT_CITA_SEDE,
	STMT_USUARIOS_LIST,
	STMT_USUARIO_GET,
	STMT_USUARIO_CREAR,
	STMT_USUARIO_PUT,
	STMT_AUDITORIA_LIST,
	STMT_AUDITORIA_ESTADO,
	STMT_AUDITORIA_RETRASO,
	STMT_LIMITES,
	STMT_TRABAJOS_LIST,
	STMT_TRABAJO_GET,
	STMT_TRABAJO_HORA,
	STMT_TRABAJO_PUT,
	STMT_TRABAJO_EJECUTAR,
	STMT_MUERTOS_LIST,
	STMT_MUERTO_REENVIAR,
	STMT__MAX
};

extern const char *const api_sql[STMT__MAX];

/*
 * The parameters of each statement, $1 first: names separated by spaces,
 * each with the type its binary value is sent in (":int8", ":int4",
 * ":bool"; none: text).  "who" stands for the four that say who wrote:
 * "usuario:int8 rol request_id ip".  A unit test holds each list to its
 * statement ($1..$N, and a cast to the type of each typed one).
 */
extern const char *const api_sql_args[STMT__MAX];

enum api_arg_type { ARG_TEXT, ARG_INT8, ARG_INT4, ARG_BOOL };

#define API_MAX_ARGS	16

/*
 * The values of one statement's parameters, set by name; a parameter not
 * set is NULL.  A name the statement lacks, or a value of another type,
 * is a bug: logged, and the statement is not run (VR_EDB).  Text values
 * are not copied: they must live until the statement has run.
 */
struct api_args {
	int		 stmt;
	int		 n;		/* parameters of stmt */
	int		 err;		/* a bad name or type was given */
	const char	*v[API_MAX_ARGS];
	int		 len[API_MAX_ARGS];
	int		 fmt[API_MAX_ARGS];
	unsigned char	 bin[API_MAX_ARGS][8];
};

int	api_sql_arg(int stmt, const char *name, enum api_arg_type *type);
int	api_sql_nargs(int stmt);
void	api_args_init(struct api_args *a, int stmt);
void	api_arg_text(struct api_args *a, const char *name, const char *v);
void	api_arg_int(struct api_args *a, const char *name, long long v);
void	api_arg_bool(struct api_args *a, const char *name, int v);
int	api_args_run(struct vr_db *db, const struct api_args *a, int write,
	    PGresult **res);

#endif /* API_SQL_H */
