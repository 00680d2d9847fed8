/* The C side of the language parity check. Usage: dump LFW_DIR DEV_DIR TMP_DIR */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faceprint.h"

static const faceprint_engine *engine;
static char lfw_dir[1024];

static void die(const char *what, faceprint_status st, faceprint_error *err) {
    fprintf(stderr, "%s: %s: %s\n", what, faceprint_status_name(st), faceprint_error_message(err));
    faceprint_error_free(err);
    exit(1);
}

static const char *photo(const char *person, int n) {
    static char path[2048];
    snprintf(path, sizeof path, "%s/%s/%s_%04d.jpg", lfw_dir, person, person, n);
    return path;
}

static faceprint_image *open_image(const char *path) {
    faceprint_image *img = NULL;
    faceprint_error *err = NULL;
    faceprint_status st = faceprint_image_open(engine, path, &img, &err);
    if (st != FACEPRINT_STATUS_OK) die(path, st, err);
    return img;
}

/* The status name of extracting the largest face from a path or from bytes. */
static const char *extract_code(const char *path, const unsigned char *bytes, size_t len) {
    faceprint_image *img = NULL;
    faceprint_embedding *e = NULL;
    faceprint_status st = path ? faceprint_image_open(engine, path, &img, NULL)
                               : faceprint_image_decode(engine, bytes, len, &img, NULL);
    if (st == FACEPRINT_STATUS_OK) st = faceprint_extract_largest(engine, img, &e, NULL);
    faceprint_embedding_free(e);
    faceprint_image_free(img);
    return faceprint_status_name(st);
}

static size_t progress_calls;

static void on_progress(size_t done, size_t total, void *user) {
    (void)done;
    (void)total;
    (void)user;
    __atomic_add_fetch(&progress_calls, 1, __ATOMIC_RELAXED);
}

/* Prints a JSON string the library returned, then frees it. */
static void print_json(const char *key, faceprint_status st, faceprint_error *err, char *json) {
    if (st != FACEPRINT_STATUS_OK) die(key, st, err);
    printf(", \"%s\": %s", key, json);
    faceprint_string_free(json);
}

static const char *vector_code(const float *values, size_t dim) {
    faceprint_embedding *e = NULL;
    faceprint_status st = faceprint_embedding_from_vector(engine, values, dim, &e, NULL);
    faceprint_embedding_free(e);
    return faceprint_status_name(st);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s LFW_DIR DEV_DIR TMP_DIR\n", argv[0]);
        return 2;
    }
    snprintf(lfw_dir, sizeof lfw_dir, "%s", argv[1]);
    faceprint_error *err = NULL;
    faceprint_status st;
    faceprint_store *store = NULL;
    faceprint_engine *own = NULL;
    if ((st = faceprint_store_open_memory(&store, &err)) != FACEPRINT_STATUS_OK) die("store", st, err);
    faceprint_engine_builder *b = faceprint_engine_builder_new();
    faceprint_engine_builder_store(b, store, NULL);
    if ((st = faceprint_engine_builder_build(b, &own, &err)) != FACEPRINT_STATUS_OK) die("engine", st, err);
    faceprint_engine_builder_free(b);
    engine = own;

    const char *names[3] = {"a", "b", "c"};
    const char *people[3] = {"Tony_Blair", "Tony_Blair", "George_W_Bush"};
    int numbers[3] = {1, 2, 2};
    faceprint_embedding *emb[3];
    printf("{\"embeddings\": {");
    for (int i = 0; i < 3; i++) {
        faceprint_image *img = open_image(photo(people[i], numbers[i]));
        if ((st = faceprint_extract_largest(engine, img, &emb[i], &err)) != FACEPRINT_STATUS_OK) die("extract", st, err);
        faceprint_image_free(img);
        const float *v = faceprint_embedding_values(emb[i]);
        size_t dim = faceprint_embedding_dim(emb[i]);
        printf("%s\"%s\": [", i ? ", " : "", names[i]);
        for (size_t k = 0; k < dim; k++) printf("%s%.9g", k ? ", " : "", v[k]);
        printf("]");
    }
    faceprint_comparison ab, ac;
    if ((st = faceprint_compare(engine, emb[0], emb[1], NULL, &ab, &err)) != FACEPRINT_STATUS_OK) die("compare", st, err);
    if ((st = faceprint_compare(engine, emb[0], emb[2], NULL, &ac, &err)) != FACEPRINT_STATUS_OK) die("compare", st, err);
    printf("}, \"scores\": {\"a_b\": %.9g, \"a_c\": %.9g}", ab.score, ac.score);
    printf(", \"same\": {\"a_b\": %s, \"a_c\": %s}", ab.same ? "true" : "false", ac.same ? "true" : "false");

    faceprint_image *tony[2] = {open_image(photo("Tony_Blair", 1)), open_image(photo("Tony_Blair", 2))};
    faceprint_image *george = open_image(photo("George_W_Bush", 1));
    char *report = NULL;
    if ((st = faceprint_enroll(engine, "parity", "tony", (const faceprint_image *const *)tony, 2, NULL, &report, &err)) != FACEPRINT_STATUS_OK) die("enroll", st, err);
    faceprint_string_free(report);
    if ((st = faceprint_enroll(engine, "parity", "george", (const faceprint_image *const *)&george, 1, NULL, &report, &err)) != FACEPRINT_STATUS_OK) die("enroll", st, err);
    faceprint_string_free(report);
    faceprint_image *probe = open_image(photo("Tony_Blair", 10));
    faceprint_verification v;
    if ((st = faceprint_verify(engine, "parity", "tony", probe, NULL, NULL, &v, &err)) != FACEPRINT_STATUS_OK) die("verify", st, err);
    printf(", \"verify\": {\"score\": %.9g, \"matched\": %s}", v.score, v.matched ? "true" : "false");
    faceprint_image *george5 = open_image(photo("George_W_Bush", 5));
    faceprint_identification *id = NULL;
    faceprint_candidate best;
    if ((st = faceprint_identify(engine, "parity", george5, 1, NULL, NULL, &id, &err)) != FACEPRINT_STATUS_OK) die("identify", st, err);
    if ((st = faceprint_identification_get(id, 0, &best, &err)) != FACEPRINT_STATUS_OK) die("identify", st, err);
    printf(", \"identify\": [\"%s\", %.9g]", best.subject, best.score);

    /* The same bad inputs every language is given. */
    char truncated[2048];
    snprintf(truncated, sizeof truncated, "%s/truncated.jpg", argv[3]);
    FILE *in = fopen(photo("Tony_Blair", 3), "rb"), *out = fopen(truncated, "wb");
    unsigned char buf[5000];
    if (!in || !out || fread(buf, 1, sizeof buf, in) != sizeof buf || fwrite(buf, 1, sizeof buf, out) != sizeof buf) {
        perror("truncated copy");
        return 1;
    }
    fclose(in);
    fclose(out);
    char no_face[2048];
    snprintf(no_face, sizeof no_face, "%s/hard/non_face/skimage_coffee.png", argv[2]);
    float nan_vector[1024], ones[7] = {1, 1, 1, 1, 1, 1, 1};
    size_t dim = faceprint_embedding_dim(emb[0]);
    if (dim > sizeof nan_vector / sizeof nan_vector[0]) {
        fprintf(stderr, "embedding dimension %zu exceeds the test buffer\n", dim);
        return 1;
    }
    memcpy(nan_vector, faceprint_embedding_values(emb[0]), dim * sizeof(float));
    nan_vector[2] = NAN;
    faceprint_verification unused;
    printf(", \"errors\": {\"empty\": \"%s\"", extract_code(NULL, (const unsigned char *)"", 0));
    printf(", \"garbage\": \"%s\"", extract_code(NULL, (const unsigned char *)"not an image", 12));
    printf(", \"truncated\": \"%s\"", extract_code(truncated, NULL, 0));
    printf(", \"missing\": \"%s\"", extract_code("/nonexistent/photo.jpg", NULL, 0));
    printf(", \"no_face\": \"%s\"", extract_code(no_face, NULL, 0));
    printf(", \"nan_vector\": \"%s\"", vector_code(nan_vector, dim));
    printf(", \"wrong_dim\": \"%s\"", vector_code(ones, 7));
    printf(", \"unknown_subject\": \"%s\"}",
           faceprint_status_name(faceprint_verify(engine, "parity", "nobody", tony[0], NULL, NULL, &unused, NULL)));

    /* Identity documents: the page as the library reads it, a selfie matched with its
     * portrait, and the two document errors a caller sees first. */
    char doc_path[2048], selfie_path[2048], bare_path[2048];
    snprintf(doc_path, sizeof doc_path, "%s/documents/passport-td3.jpg", argv[2]);
    snprintf(selfie_path, sizeof selfie_path, "%s/documents/25_pass-uto.jpg", argv[2]);
    snprintf(bare_path, sizeof bare_path, "%s/documents/27_pass-gbr.jpg", argv[2]);
    faceprint_image *doc = open_image(doc_path), *doc_selfie = open_image(selfie_path);
    faceprint_image *bare = open_image(bare_path), *coffee = open_image(no_face);
    {
        char *reading = NULL;
        faceprint_error *derr = NULL;
        faceprint_status dst = faceprint_read_document(engine, doc, "{\"visual_zone\": true}", &reading, &derr);
        print_json("document", dst, derr, reading);
        faceprint_document_match dm;
        if ((dst = faceprint_match_document(engine, doc, doc_selfie, &dm, &derr)) != FACEPRINT_STATUS_OK)
            die("match_document", dst, derr);
        printf(", \"document_match\": {\"score\": %.9g, \"matched\": %s, \"orientation_degrees\": %u}",
               dm.score, dm.matched ? "true" : "false", dm.portrait_orientation_degrees);
        printf(", \"document_errors\": {\"no_document\": \"%s\"",
               faceprint_status_name(faceprint_read_document(engine, coffee, NULL, &reading, NULL)));
        printf(", \"no_portrait\": \"%s\"}",
               faceprint_status_name(faceprint_match_document(engine, bare, doc_selfie, &dm, NULL)));
    }
    faceprint_image_free(doc);
    faceprint_image_free(doc_selfie);
    faceprint_image_free(bare);
    faceprint_image_free(coffee);

    /* Batch extraction, subject management and collections: the same sequence everywhere
     * (check.py turns the JSON the C calls return into the other languages' shape). */
    char tony1[2048], george2[2048];
    snprintf(tony1, sizeof tony1, "%s", photo("Tony_Blair", 1));
    snprintf(george2, sizeof george2, "%s", photo("George_W_Bush", 2));
    const char *batch_paths[4] = {tony1, truncated, george2, "/nonexistent/photo.jpg"};
    faceprint_batch *batch = NULL;
    if ((st = faceprint_extract_batch(engine, batch_paths, 4, 2, on_progress, NULL, &batch, &err)) != FACEPRINT_STATUS_OK) die("batch", st, err);
    printf(", \"c_manage\": {\"batch\": [");
    for (size_t i = 0; i < faceprint_batch_len(batch); i++) {
        faceprint_status item = faceprint_batch_status(batch, i);
        if (item == FACEPRINT_STATUS_OK)
            printf("%s\"faces:%zu\"", i ? ", " : "", faceprint_embedding_list_len(faceprint_batch_faces(batch, i)));
        else
            printf("%s\"%s\"", i ? ", " : "", faceprint_status_name(item));
    }
    const faceprint_embedding *batch_a = faceprint_embedding_list_get(faceprint_batch_faces(batch, 0), 0);
    printf("], \"batch_a\": [");
    for (size_t k = 0; k < faceprint_embedding_dim(batch_a); k++)
        printf("%s%.9g", k ? ", " : "", faceprint_embedding_values(batch_a)[k]);
    printf("], \"batch_progress\": %zu", __atomic_load_n(&progress_calls, __ATOMIC_RELAXED));
    faceprint_batch_free(batch);

    char *json = NULL;
    if ((st = faceprint_set_subject_disabled(engine, "parity", "george", true, NULL, &err)) != FACEPRINT_STATUS_OK) die("disable", st, err);
    st = faceprint_list_subjects(engine, "parity", 0, 100, &json, &err);
    print_json("listed_disabled", st, err, json);
    printf(", \"verify_disabled\": \"%s\"",
           faceprint_status_name(faceprint_verify(engine, "parity", "george", george5, NULL, NULL, &unused, NULL)));
    faceprint_identification *id2 = NULL;
    faceprint_candidate top;
    if ((st = faceprint_identify(engine, "parity", george5, 1, NULL, NULL, &id2, &err)) != FACEPRINT_STATUS_OK) die("identify", st, err);
    int top_matched = faceprint_identification_len(id2) > 0 && faceprint_identification_get(id2, 0, &top, NULL) == FACEPRINT_STATUS_OK && top.matched;
    printf(", \"identify_disabled\": [%s%s%s]", top_matched ? "\"" : "", top_matched ? top.subject : "", top_matched ? "\"" : "");
    faceprint_identification_free(id2);
    if ((st = faceprint_set_subject_disabled(engine, "parity", "george", false, NULL, &err)) != FACEPRINT_STATUS_OK) die("enable", st, err);
    faceprint_verification enabled;
    if ((st = faceprint_verify(engine, "parity", "george", george5, NULL, NULL, &enabled, &err)) != FACEPRINT_STATUS_OK) die("verify", st, err);
    printf(", \"verify_enabled\": %s", enabled.matched ? "true" : "false");
    char *export_json = NULL;
    if ((st = faceprint_export_subject(engine, "parity", "tony", NULL, &export_json, &err)) != FACEPRINT_STATUS_OK) die("export", st, err);
    /* The first template's id: the first "id" key (the subject's keys hold none). */
    char template_id[256] = "";
    const char *at = strstr(export_json, "\"id\":\"");
    if (at) sscanf(at + 6, "%255[^\"]", template_id);
    printf(", \"export\": %s", export_json);
    faceprint_string_free(export_json);
    char *deleted_from = NULL;
    if ((st = faceprint_delete_template(engine, "parity", template_id, NULL, &deleted_from, &err)) != FACEPRINT_STATUS_OK) die("delete_template", st, err);
    printf(", \"deleted_template_of\": \"%s\"", deleted_from);
    faceprint_string_free(deleted_from);
    if ((st = faceprint_delete_subject(engine, "parity", "george", NULL, &err)) != FACEPRINT_STATUS_OK) die("delete", st, err);
    st = faceprint_list_subjects(engine, "parity", 0, 100, &json, &err);
    print_json("listed_after", st, err, json);
    st = faceprint_list_collections(engine, &json, &err);
    print_json("collections", st, err, json);

    /* face_recognition's faces: dlib boxes and points, and the first one's embedding. */
    char group_path[2048];
    snprintf(group_path, sizeof group_path, "%s/faces/test/obama_and_biden.jpg", argv[2]);
    faceprint_image *group = open_image(group_path);
    faceprint_dlib_face_list *dl = NULL;
    if ((st = faceprint_dlib_faces(engine, group, NULL, 0, &dl, &err)) != FACEPRINT_STATUS_OK) die("dlib_faces", st, err);
    faceprint_dlib_face first;
    printf(", \"dlib\": {\"boxes\": [");
    for (size_t i = 0; i < faceprint_dlib_face_list_len(dl); i++) {
        faceprint_dlib_face f;
        if ((st = faceprint_dlib_face_list_get(dl, i, &f, &err)) != FACEPRINT_STATUS_OK) die("dlib_face", st, err);
        if (i == 0) first = f;
        printf("%s[%.9g, %.9g, %.9g, %.9g]", i ? ", " : "", f.rect[0], f.rect[1], f.rect[2], f.rect[3]);
    }
    printf("], \"points\": [");
    for (size_t i = 0; i < faceprint_dlib_face_list_len(dl); i++) {
        faceprint_dlib_face f;
        faceprint_dlib_face_list_get(dl, i, &f, NULL);
        printf("%s[", i ? ", " : "");
        for (int k = 0; k < 5; k++) printf("%s[%.9g, %.9g]", k ? ", " : "", f.points[2 * k], f.points[2 * k + 1]);
        printf("]");
    }
    printf("]}");
    faceprint_embedding_list *embedded = NULL;
    if ((st = faceprint_embed(engine, group, &first.aligned, 1, &embedded, &err)) != FACEPRINT_STATUS_OK) die("embed", st, err);
    const faceprint_embedding *e0 = faceprint_embedding_list_get(embedded, 0);
    printf(", \"dlib_first\": [");
    for (size_t k = 0; k < faceprint_embedding_dim(e0); k++)
        printf("%s%.9g", k ? ", " : "", faceprint_embedding_values(e0)[k]);
    printf("]");
    faceprint_embedding_list_free(embedded);
    faceprint_dlib_face_list_free(dl);
    faceprint_image_free(group);
    printf("}}\n");

    faceprint_identification_free(id);
    faceprint_image_free(george5);
    faceprint_image_free(probe);
    faceprint_image_free(george);
    faceprint_image_free(tony[0]);
    faceprint_image_free(tony[1]);
    for (int i = 0; i < 3; i++) faceprint_embedding_free(emb[i]);
    faceprint_engine_free(own);
    faceprint_store_free(store);
    return 0;
}
