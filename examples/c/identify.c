/*
 * Enrolls everyone in a gallery folder, then identifies every face of a probe photo.
 *
 *   identify GALLERY_DIR PROBE_IMAGE [MODELS_DIR]
 *
 * GALLERY_DIR holds one folder per person (the folder name is the subject), each with one or
 * more photos showing that person alone. Prints one line per enrolled person, then the best
 * candidates for each face of the probe. Exit status: 0 when a face matched someone, 1 when none
 * did (or the probe shows no face), 2 on an error.
 *
 * Plain C99 (plus POSIX dirent); build:
 *   gcc -std=c99 -Wall -Wextra -Werror identify.c $(pkg-config --cflags --libs faceprint)
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "faceprint.h"

#define MAX_PHOTOS 64
#define COLLECTION "people"

/* Prints a failed call's status and message, frees the error, and returns 0. */
static int report(const char *what, faceprint_status status, faceprint_error *err) {
    fprintf(stderr, "%s: %s (%d): %s\n", what, faceprint_status_name(status), (int)status,
            faceprint_error_message(err));
    faceprint_error_free(err);
    return 0;
}

/* out = a/b; returns 0 (and says so) when it does not fit. */
static int join_path(char *out, size_t size, const char *a, const char *b) {
    int n = snprintf(out, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "%s/%s: path too long\n", a, b);
        return 0;
    }
    return 1;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of a folder (without dot files); returns the count, -1 on error. */
static int list_dir(const char *path, char ***names_out) {
    DIR *dir = opendir(path);
    if (!dir) {
        perror(path);
        return -1;
    }
    char **names = NULL;
    int count = 0, cap = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, (size_t)cap * sizeof *names);
            if (!grown) break;
            names = grown;
        }
        names[count] = malloc(strlen(entry->d_name) + 1);
        if (!names[count]) break;
        strcpy(names[count++], entry->d_name);
    }
    closedir(dir);
    qsort(names, (size_t)count, sizeof *names, compare_names);
    *names_out = names;
    return count;
}

static void free_names(char **names, int count) {
    for (int i = 0; i < count; i++) free(names[i]);
    free(names);
}

/* Enrolls one person from the photos in their folder; returns 1 on success. */
static int enroll_person(faceprint_engine *engine, const char *gallery, const char *person) {
    char folder[2048], path[4096];
    if (!join_path(folder, sizeof folder, gallery, person)) return 0;
    char **files = NULL;
    int file_count = list_dir(folder, &files);
    if (file_count < 0) return 0;

    faceprint_image *images[MAX_PHOTOS];
    size_t image_count = 0;
    int ok = 1;
    for (int i = 0; i < file_count && image_count < MAX_PHOTOS && ok; i++) {
        faceprint_error *err = NULL;
        if (!join_path(path, sizeof path, folder, files[i])) {
            ok = 0;
            break;
        }
        faceprint_status st = faceprint_image_open(engine, path, &images[image_count], &err);
        if (st == FACEPRINT_STATUS_OK) {
            image_count++;
        } else {
            ok = report(path, st, err);
        }
    }
    if (ok && image_count > 0) {
        char *report_json = NULL;
        faceprint_error *err = NULL;
        faceprint_status st = faceprint_enroll(engine, COLLECTION, person,
                                               (const faceprint_image *const *)images,
                                               image_count, NULL, &report_json, &err);
        if (st == FACEPRINT_STATUS_OK) {
            printf("enrolled %s from %zu photo(s)\n", person, image_count);
            faceprint_string_free(report_json);
        } else {
            ok = report(person, st, err);
        }
    }
    for (size_t i = 0; i < image_count; i++) faceprint_image_free(images[i]);
    free_names(files, file_count);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s GALLERY_DIR PROBE_IMAGE [MODELS_DIR]\n", argv[0]);
        return 2;
    }
    const char *gallery = argv[1], *probe_path = argv[2];
    int exit_code = 2;
    faceprint_error *err = NULL;
    faceprint_status st;
    faceprint_store *store = NULL;
    faceprint_engine_builder *builder = NULL;
    faceprint_engine *engine = NULL;
    faceprint_image *probe = NULL;
    faceprint_embedding_list *faces = NULL;
    char **people = NULL;
    int people_count = 0;

    if ((st = faceprint_store_open_memory(&store, &err)) != FACEPRINT_STATUS_OK) {
        report("store", st, err);
        goto done;
    }
    builder = faceprint_engine_builder_new();
    if (argc == 4 && (st = faceprint_engine_builder_models_dir(builder, argv[3], &err)) != FACEPRINT_STATUS_OK) {
        report("models dir", st, err);
        goto done;
    }
    if ((st = faceprint_engine_builder_store(builder, store, &err)) != FACEPRINT_STATUS_OK ||
        (st = faceprint_engine_builder_build(builder, &engine, &err)) != FACEPRINT_STATUS_OK) {
        report("engine", st, err);
        goto done;
    }

    people_count = list_dir(gallery, &people);
    if (people_count < 0) goto done;
    int enrolled = 0;
    for (int i = 0; i < people_count; i++) {
        char folder[2048];
        if (join_path(folder, sizeof folder, gallery, people[i]) && is_dir(folder) && enroll_person(engine, gallery, people[i])) enrolled++;
    }
    if (enrolled == 0) {
        fprintf(stderr, "%s: nobody could be enrolled\n", gallery);
        goto done;
    }

    if ((st = faceprint_image_open(engine, probe_path, &probe, &err)) != FACEPRINT_STATUS_OK ||
        (st = faceprint_extract(engine, probe, &faces, &err)) != FACEPRINT_STATUS_OK) {
        report(probe_path, st, err);
        goto done;
    }
    exit_code = 1;
    size_t face_count = faceprint_embedding_list_len(faces);
    if (face_count == 0) printf("no face\n");
    for (size_t f = 0; f < face_count; f++) {
        /* Each face's embedding is a probe of its own (owned by the list). */
        const faceprint_embedding *face = faceprint_embedding_list_get(faces, f);
        faceprint_identification *found = NULL;
        if ((st = faceprint_identify_embedding(engine, COLLECTION, face, 3, NULL, NULL, &found, &err)) !=
            FACEPRINT_STATUS_OK) {
            report(probe_path, st, err);
            exit_code = 2;
            goto done;
        }
        int face_matched = 0;
        size_t n = faceprint_identification_len(found);
        for (size_t i = 0; i < n; i++) {
            faceprint_candidate c;
            if (faceprint_identification_get(found, i, &c, NULL) != FACEPRINT_STATUS_OK) break;
            printf("face %zu candidate %zu: %s score %.4f %s\n", f + 1, i + 1, c.subject, c.score,
                   c.matched ? "MATCH" : "no match");
            if (c.matched) face_matched = 1;
        }
        faceprint_identification_free(found);
        if (face_matched) exit_code = 0;
        else printf("face %zu: no match\n", f + 1);
    }

done:
    faceprint_embedding_list_free(faces);
    faceprint_image_free(probe);
    if (people) free_names(people, people_count);
    faceprint_engine_free(engine);
    faceprint_engine_builder_free(builder);
    faceprint_store_free(store);
    return exit_code;
}
