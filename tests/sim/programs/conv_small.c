/* A padded 3x3 conv through tiled_conv_auto, checked against a CPU reference. */
#include "gemmini.h"

static elem_t in[1][10][10][20], w[3][3][20][24], out[1][10][10][24];
static acc_t bias[24];

int main(void) {
    for (int i = 0; i < 2000; i++) ((elem_t *)in)[i] = (elem_t)(i * 7 % 23 - 11);
    for (int i = 0; i < 4320; i++) ((elem_t *)w)[i] = (elem_t)(i * 5 % 19 - 9);
    for (int i = 0; i < 24; i++) bias[i] = i * 10 - 100;
    tiled_conv_auto(1, 10, 10, 20, 24, 10, 10, 1, 1, 1, 1, 3, false, false, false, false, false,
                    (elem_t *)in, (elem_t *)w, bias, (elem_t *)out, RELU, 0.05f, 0, 0, 0, WS);
    for (int r = 0; r < 10; r++)
        for (int c = 0; c < 10; c++)
            for (int o = 0; o < 24; o++) {
                int64_t acc = bias[o];
                for (int kr = 0; kr < 3; kr++)
                    for (int kc = 0; kc < 3; kc++) {
                        int ir = r + kr - 1, ic = c + kc - 1;
                        if (ir < 0 || ic < 0 || ir >= 10 || ic >= 10) continue;
                        for (int i = 0; i < 20; i++) acc += in[0][ir][ic][i] * w[kr][kc][i][o];
                    }
                float y = nearbyintf((float)acc * 0.05f);
                int v = y > 127 ? 127 : (y < -128 ? -128 : (int)y);
                if ((elem_t)(v < 0 ? 0 : v) != out[0][r][c][o]) return 1;
            }
    printf("PASS\n");
    return 0;
}
