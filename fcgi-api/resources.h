/*
 * resources.h - the handlers, one file per resource: they see validated
 * input and answer through the layers below (authz, input, problem,
 * transport).  Each handler's contract is written above it.
 * Layer: resources, above authz; only the router and the process above.
 */
#ifndef API_RESOURCES_H
#define API_RESOURCES_H

#include "req.h"

/* system.c */
void	api_health(struct api_req *r);
void	api_ready(struct api_req *r);
int	api_broker_ok(struct api_shared *sh);
void	api_openapi_get(struct api_req *r);

/* openapi_doc.c: the document, NUL-terminated at api_openapi_end */
extern const char api_openapi_start[];
extern const char api_openapi_end[];

/* auth.c */
int	api_auth_init(struct api_shared *sh, char *err, size_t errlen);
void	api_auth_login(struct api_req *r);
void	api_auth_refresh(struct api_req *r);
void	api_auth_logout(struct api_req *r);

/* usuarios.c */
void	api_usuarios_list(struct api_req *r);
void	api_usuario_get(struct api_req *r);
void	api_usuario_crear(struct api_req *r);
void	api_usuario_put(struct api_req *r);

/* auditoria.c */
void	api_auditoria_list(struct api_req *r);
void	api_auditoria_verificacion(struct api_req *r);

/* citas.c */
void	api_cita_reservar(struct api_req *r);
void	api_cita_get(struct api_req *r);
void	api_cita_put(struct api_req *r);
void	api_cita_delete(struct api_req *r);
void	api_citas_list(struct api_req *r);

/* agenda.c */
void	api_veterinarios_list(struct api_req *r);
void	api_disponibilidad(struct api_req *r);
void	api_ausencias_list(struct api_req *r);
void	api_ausencia_registrar(struct api_req *r);
void	api_ausencia_eliminar(struct api_req *r);

/* ics.c */
void	api_ausencias_importar(struct api_req *r);

/* horarios.c */
void	api_horarios_list(struct api_req *r);
void	api_horarios_fijar(struct api_req *r);
void	api_semana_veterinario(struct api_req *r);
void	api_agenda_sede(struct api_req *r);
void	api_feriados_list(struct api_req *r);
void	api_feriado_registrar(struct api_req *r);
void	api_feriado_eliminar(struct api_req *r);
void	api_tipos_cita_list(struct api_req *r);
void	api_tipo_cita_fijar(struct api_req *r);
void	api_tipo_cita_eliminar(struct api_req *r);

/* calendarios.c */
void	api_calendario_emitir(struct api_req *r);
void	api_calendario_rotar(struct api_req *r);
void	api_calendarios_list(struct api_req *r);
void	api_calendario_revocar(struct api_req *r);

/* pacientes.c */
void	api_paciente_registro(struct api_req *r);
void	api_paciente_get(struct api_req *r);
void	api_paciente_historial(struct api_req *r);
void	api_paciente_put(struct api_req *r);
void	api_paciente_fallecimiento(struct api_req *r);
void	api_paciente_transferencia(struct api_req *r);
void	api_paciente_peso(struct api_req *r);
void	api_paciente_pesos(struct api_req *r);

/* clinico.c */
void	api_vacunas_list(struct api_req *r);
void	api_vacunacion_registrar(struct api_req *r);
void	api_tratamiento_registrar(struct api_req *r);
void	api_diagnosticos_list(struct api_req *r);
void	api_diagnostico_crear(struct api_req *r);
void	api_entrada_registrar(struct api_req *r);
void	api_entrada_get(struct api_req *r);
void	api_entrada_corregir(struct api_req *r);
void	api_entrada_enmendar(struct api_req *r);

/* propietarios.c */
cJSON	*api_owner_in(struct api_req *r, const cJSON *o, int required,
	    const char *prefix, cJSON *errs);
int	 api_seal_field(struct api_req *r, cJSON *o, const char *table,
	    const char *name);
int	 api_seal_owner(struct api_req *r, cJSON *owner);
void	api_propietario_get(struct api_req *r);
void	api_propietario_put(struct api_req *r);
void	api_propietarios_buscar(struct api_req *r);
void	api_propietario_fusion(struct api_req *r);

/* sedes.c */
void	api_sedes_list(struct api_req *r);
void	api_sede_get(struct api_req *r);
void	api_sede_create(struct api_req *r);
void	api_consultorios_list(struct api_req *r);

/* trabajos.c */
void	api_trabajos_list(struct api_req *r);
void	api_trabajo_get(struct api_req *r);
void	api_trabajo_put(struct api_req *r);
void	api_trabajo_ejecutar(struct api_req *r);

/* eventos.c */
void	api_muertos_list(struct api_req *r);
void	api_muerto_reenviar(struct api_req *r);

#endif /* API_RESOURCES_H */
